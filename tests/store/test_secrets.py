"""Planted credentials never appear in Redis (any key, any type, RQ's included), in a response
body, or in a log line: they are stored Fernet-encrypted and logged by fingerprint only."""

from __future__ import annotations

import logging

from tests.api.helpers import assert_absent, heartbeat, redis_dump
from tests.factories import DEEPSEEK_TEST_KEY, ZAI_TEST_KEY, key_header, registration

# The fakes' keys are the planted ones for Z.ai and DeepSeek, so the polls really use them.
ZAI_KEY = ZAI_TEST_KEY
DEEPSEEK_KEY = DEEPSEEK_TEST_KEY
CLAUDE_ACCESS = "sk-ant-oat01-PLANTEDaccess-4c2f9e1a7b"
CLAUDE_REFRESH = "sk-ant-ort01-PLANTEDrefresh-8d3b6a0c5e"
GITHUB_TOKEN = "gho_PLANTEDgithubToken0a1b2c3d4e5f"
FRESH_ZAI_KEY = "zai-PLANTED-fresh-6e7f8a9b0c"
FRESH_CLAUDE_ACCESS = "sk-ant-oat01-PLANTEDfreshAccess-1f2e3d"
FRESH_CLAUDE_REFRESH = "sk-ant-ort01-PLANTEDfreshRefresh-4c5b6a"
FRESH_GITHUB_TOKEN = "gho_PLANTEDfreshGithubToken9z8y7x6w"

PLANTED = [
    ZAI_KEY,
    DEEPSEEK_KEY,
    CLAUDE_ACCESS,
    CLAUDE_REFRESH,
    GITHUB_TOKEN,
    FRESH_ZAI_KEY,
    FRESH_CLAUDE_ACCESS,
    FRESH_CLAUDE_REFRESH,
    FRESH_GITHUB_TOKEN,
]


def test_planted_secrets_appear_nowhere(
    zai, deepseek, claude, copilot, client, ctx, clock, drain, redis_client, caplog, capsys
):
    caplog.set_level(logging.DEBUG)
    # Every planted credential is one its fake accepts, so each provider's poll really runs.
    claude.add_token(CLAUDE_ACCESS)
    claude.refresh_token = CLAUDE_REFRESH
    copilot.token = GITHUB_TOKEN
    bodies: list[str] = []

    def record(response, status: int):
        bodies.append(response.get_data(as_text=True))
        bodies.append(str(response.headers))
        assert response.status_code == status, response.get_data(as_text=True)
        return response.get_json()

    auth = {
        "opencode_auth": {
            "zai-coding-plan": {"type": "api", "key": ZAI_KEY},
            "deepseek": DEEPSEEK_KEY,
        },
        "claude_credentials": {
            "claudeAiOauth": {
                "accessToken": CLAUDE_ACCESS,
                "refreshToken": CLAUDE_REFRESH,
                "expiresAt": 1_790_003_600_000,
            }
        },
        "github_token": GITHUB_TOKEN,
    }
    reg = record(client.post("/v1/instances", json=registration(auth=auth)), 201)
    headers = key_header(reg["api_key"])
    record(client.post("/v1/poll", headers=headers), 202)
    dumps = [redis_dump(redis_client)]  # with the queued RQ jobs, before a worker ran them
    assert "rq:job:poll-" in dumps[0]
    drain()
    record(client.get("/v1/status", headers=headers), 200)

    assert claude.upstream.last().headers["authorization"] == f"Bearer {CLAUDE_ACCESS}"
    assert copilot.upstream.last().headers["authorization"] == f"token {GITHUB_TOKEN}"

    clock.advance(60)
    zai.key = FRESH_ZAI_KEY
    claude.revoke(CLAUDE_ACCESS)
    claude.add_token(FRESH_CLAUDE_ACCESS)
    claude.refresh_token = FRESH_CLAUDE_REFRESH
    copilot.token = FRESH_GITHUB_TOKEN
    fresh = {
        "opencode_auth": {"zai": FRESH_ZAI_KEY, "github-copilot": {"refresh": FRESH_GITHUB_TOKEN}},
        "claude_credentials": {
            "accessToken": FRESH_CLAUDE_ACCESS,
            "refreshToken": FRESH_CLAUDE_REFRESH,
        },
    }
    beat = record(heartbeat(client, reg, auth=fresh), 200)
    assert beat["refreshed"] == ["claude", "copilot", "zai"]
    record(client.post("/v1/poll", headers=headers), 202)
    drain()
    for path in ("/v1/status", "/v1/providers", "/v1/providers/zai", "/v1/providers/claude"):
        record(client.get(path, headers=headers), 200)
    record(client.get("/v1/health"), 200)

    # The polls really ran with the planted keys, so the check below covers the worker too.
    assert zai.upstream.count() == 2
    assert zai.upstream.last().headers["authorization"] == f"Bearer {FRESH_ZAI_KEY}"
    assert deepseek.upstream.count() == 2
    assert claude.upstream.count("/api/oauth/usage") == 2
    assert claude.upstream.last().headers["authorization"] == f"Bearer {FRESH_CLAUDE_ACCESS}"
    assert copilot.upstream.count() == 2
    assert copilot.upstream.last().headers["authorization"] == f"token {FRESH_GITHUB_TOKEN}"
    providers = record(client.get("/v1/providers", headers=headers), 200)
    for name in ("zai", "claude", "copilot"):
        assert providers[name]["status"] == "GREEN", providers[name]
    for name in ("deepseek", "claude", "copilot"):
        assert providers[name]["error"] is None, providers[name]

    dumps.append(redis_dump(redis_client))
    assert "rq:worker:" in dumps[-1]  # what the worker left behind is part of the dump
    output = capsys.readouterr()
    # The API key is in the registration answer (shown once), and nowhere else.
    assert_absent(PLANTED, "\n".join(bodies))
    assert_absent(PLANTED + [reg["api_key"]], *dumps, caplog.text, output.out, output.err)
