"""`python -m quota_sentinel.agents` is `quota-sentinel hook`, without the rest of the CLI."""

from quota_sentinel.agents.hook import hook

hook(prog_name="quota-sentinel hook")
