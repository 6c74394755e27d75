"""Fuzzing the API from its own OpenAPI document (schemathesis): every operation gets valid and
invalid requests, with the instance's key and with another or none; no answer may be a 5xx,
every 4xx must be the one error envelope {error, message, details?}, and every body must have the
schema and media type the spec declares for its status.

The cases are derandomized (the same ones on every run, so CI never meets a new case by chance);
FUZZ_RANDOM=1 draws fresh ones and FUZZ_EXAMPLES=<n> sets the cases per operation and mode.
"""

from __future__ import annotations

import os
from collections import Counter
from typing import Any

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from schemathesis import GenerationMode
from schemathesis.checks import (
    Failure,
    FailureGroup,
    content_type_conformance,
    response_schema_conformance,
)

from tests.factories import key_header, register

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "200"))
MIN_CASES = 2_000
ENVELOPE_KEYS = {"error", "message", "details"}
CONFORMANCE = [response_schema_conformance, content_type_conformance]
# What a client can put into a header value: printable Latin-1 (HTTP headers are ISO-8859-1).
HEADER_TEXT = st.text(st.characters(min_codepoint=0x20, max_codepoint=0xFF), max_size=80).map(
    str.strip
)


def _settings() -> hypothesis.settings:
    return hypothesis.settings(
        max_examples=EXAMPLES,
        deadline=None,
        database=None,
        derandomize=not os.environ.get("FUZZ_RANDOM"),
        suppress_health_check=list(HealthCheck),
        phases=[hypothesis.Phase.explicit, hypothesis.Phase.generate],
    )


def envelope_problem(status: int, body: Any) -> str | None:
    """Why a 4xx body is not the error envelope (None when it is)."""
    if not isinstance(body, dict):
        return f"a {type(body).__name__}, not an object"
    if set(body) - ENVELOPE_KEYS or not {"error", "message"} <= set(body):
        return f"keys {sorted(body)}"
    if not (isinstance(body["error"], str) and body["error"]):
        return "no machine code in `error`"
    if not (isinstance(body["message"], str) and body["message"].endswith((".", "?", ")"))):
        return "`message` is not a sentence"
    if "details" in body and not isinstance(body["details"], dict):
        return "`details` is not an object"
    return None


ADMIN_TOKEN = "fuzz-admin-token"


@pytest.fixture
def admin(env: dict[str, str]) -> str:
    env["QUOTA_SENTINEL_ADMIN_TOKEN"] = ADMIN_TOKEN
    return ADMIN_TOKEN


class Fuzzer:
    """Sends generated cases to the app as one of several callers and records what came back."""

    WHO = st.sampled_from(["own", "own", "other", "none", "admin", "garbage"])

    def __init__(self, app, admin_token: str) -> None:
        self.app = app
        self.admin_token = admin_token
        self.reg = register(app.test_client())
        self.seen: list[str] = []
        self.problems: list[str] = []

    def runner(self, operation, mode: GenerationMode):
        """A Hypothesis test that sends `operation`'s cases of `mode`."""

        @_settings()
        @given(
            case=operation.as_strategy(generation_mode=mode),
            who=self.WHO,
            use_own_id=st.booleans(),
            garbage=HEADER_TEXT,
        )
        def run(case, who: str, use_own_id: bool, garbage: str) -> None:
            self.send(
                case, f"{operation.label} ({mode.value}, key: {who})", who, garbage, use_own_id
            )

        return run

    def send(self, case, label: str, who: str, garbage: str, use_own_id: bool) -> None:
        if use_own_id and case.path_parameters and "instance_id" in case.path_parameters:
            case.path_parameters["instance_id"] = self.reg["instance_id"]
        headers = dict(case.headers or {})
        if who == "own":
            headers.update(key_header(self.reg["api_key"]))
        elif who == "other":
            headers.update(key_header("qs_not-a-key-of-anyone"))
        elif who == "admin":
            headers["Authorization"] = f"Bearer {self.admin_token}"
        elif who == "garbage":
            headers.update({"X-API-Key": garbage, "Authorization": f"Bearer {garbage}"})
        response = case.call(headers=headers)
        status = response.status_code
        if case.method == "DELETE" and status == 200:
            self.reg = register(self.app.test_client())  # the fuzzer deregistered it
        self.seen.append(str(status))
        where = f"{case.method} {case.formatted_path} [{label}]"
        try:  # the body has the declared schema (the envelope for every error) and media type
            case.validate_response(response, checks=CONFORMANCE)
        except (FailureGroup, Failure) as exc:
            self.problems.append(f"{where}: {status} does not match the spec: {str(exc)[:400]}")
        if status >= 500:
            self.problems.append(f"{where}: {status} {response.text[:300]}")
        elif status >= 400:
            try:
                body = response.json()
            except ValueError:
                body = response.text[:200]
            problem = envelope_problem(status, body)
            if problem:
                self.problems.append(f"{where}: {status} body is {problem}")


@pytest.mark.slow
def test_fuzzed_requests_never_get_a_5xx_and_every_4xx_is_the_envelope(app, admin, zai, deepseek):
    schema = schemathesis.openapi.from_wsgi("/v1/openapi.json", app)
    operations = [result.ok() for result in schema.get_all_operations()]
    assert len(operations) >= 10, [op.label for op in operations]
    fuzzer = Fuzzer(app, admin)
    for operation in operations:
        for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):
            try:
                fuzzer.runner(operation, mode)()
            except hypothesis.errors.Unsatisfiable:
                # Nothing of this operation can be made invalid (no parameters, no body).
                assert mode is GenerationMode.NEGATIVE, operation.label

    assert fuzzer.problems == [], "\n".join(dict.fromkeys(fuzzer.problems))
    statuses = dict(Counter(fuzzer.seen))
    assert len(fuzzer.seen) >= MIN_CASES, f"only {len(fuzzer.seen)} cases ran: {statuses}"
    print(f"fuzz: {len(fuzzer.seen)} cases, {len(operations)} operations, statuses {statuses}")


@pytest.mark.parametrize(
    ("status", "body", "ok"),
    [
        (404, {"error": "not_found", "message": "No such endpoint: GET /x."}, True),
        (422, {"error": "validation_error", "message": "Bad.", "details": {"f": ["x"]}}, True),
        (400, {"message": "Bad."}, False),
        (400, {"error": "x", "message": "Bad.", "extra": 1}, False),
        (400, "<html>", False),
    ],
)
def test_the_envelope_check_itself(status: int, body: Any, ok: bool):
    assert (envelope_problem(status, body) is None) == ok
