"""API test fixtures: the Z.ai and DeepSeek fakes (see tests/api/helpers.py)."""

from tests.api.helpers import deepseek_fake, zai_fake

__all__ = ["deepseek_fake", "zai_fake"]
