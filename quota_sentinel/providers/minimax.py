"""MiniMax Coding Plan / Token Plan quota windows from the `remains` endpoints.

See docs/providers.md (MiniMax). Windows: `interval` (the rolling 5-hour window) and `weekly` for
the canonical coding lane (`MiniMax-M*` or `general`, else the first `MiniMax-M…` row, else a row
without `model_name`); every other text lane as `<lane>_interval` and `<lane>_weekly`, the lane
name lower-cased with anything but a-z and 0-9 turned into `_` (`MiniMax-M2.7-highspeed` →
`minimax_m2_7_highspeed_interval`; a nameless row beside a named coding lane is `unnamed_…`).
Non-text lanes (video, speech, music, image, audio, Hailuo) and status-3 placeholder windows are
skipped; a figure that is not a number is an error naming the field.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping
from typing import Any, Literal

from quota_sentinel.providers.base import (
    AuthFailed,
    BadPayload,
    ProviderError,
    UsageResult,
    WindowUsage,
)
from quota_sentinel.providers.http import HttpClient, HttpFactory
from quota_sentinel.providers.parsing import (
    api_key_from,
    clamp_pct,
    epoch_s,
    first_float,
    first_text,
    http_status,
    no_known_fields,
    number_at,
    safe_message,
    to_float,
    unique_name,
    unreadable,
)

log = logging.getLogger(__name__)

NAME = "minimax"
TOKEN_PLAN_PATH = "/v1/token_plan/remains"
CODING_PLAN_PATH = "/v1/api/openplatform/coding_plan/remains"

_NON_TEXT = re.compile(r"hailuo|speech|music|image|video|audio", re.IGNORECASE)
_CANONICAL = ("minimax-m*", "general")
# base_resp codes for a key the endpoint will not take: 1004 "cookie is missing, log in
# again" (also used for bad keys), 2049 "invalid api key" (a key of the other region).
_AUTH_CODES = {1004, 2049}
_AUTH_WORDS = re.compile(r"invalid api key|log ?in|cookie", re.IGNORECASE)
# Keys are bound to one region: a key of the other region is refused like a wrong key.
_REGION_ADVICE = {
    False: "check that it is a Coding Plan key (sk-cp-…) issued by minimax.io; a minimaxi.com "
    '(China) key needs region "cn", e.g. the minimax-cn-coding-plan auth entry',
    True: "check that it is a Coding Plan key (sk-cp-…) issued by minimaxi.com, or drop the "
    '"cn" region if it was issued by minimax.io',
}
_PLAN_KEYS = ("current_subscribe_title", "plan_name", "combo_title")
# A 404/405 means "no such endpoint for this key type"; a 401/403 on the Token Plan path can
# mean a Coding Plan key. Either way the older coding_plan path is tried next.
_FALLBACK_FROM_TOKEN_PLAN = {401, 403, 404, 405}
_STATUS_PLACEHOLDER = 3

Kind = Literal["interval", "weekly"]


def _field_names(kind: Kind) -> dict[str, tuple[str, ...]]:
    # The interval's times have no prefix (end_time, remains_time); the weekly ones do.
    times = "" if kind == "interval" else "weekly_"
    return {
        "total": (f"current_{kind}_total_count",),
        "count": (f"current_{kind}_usage_count",),
        "percent": (f"current_{kind}_remaining_percent",),
        "status": (f"current_{kind}_status",),
        "end": (f"{times}end_time",),
        "remains": (f"{times}remains_time",),
        "boost": (f"{kind}_boost_permille", f"{kind}_boost_permill"),  # both spellings exist
    }


_FIELDS: dict[Kind, dict[str, tuple[str, ...]]] = {
    "interval": _field_names("interval"),
    "weekly": _field_names("weekly"),
}


def fetch(
    credentials: Mapping[str, Any],
    options: Mapping[str, Any],
    http: HttpFactory,
    state: Mapping[str, Any],
    now: float,
) -> UsageResult:
    """Poll MiniMax's quota once: `token_plan/remains`, then `coding_plan/remains` if needed.

    Args:
        credentials: `{"key": "<Coding/Token Plan API key>"}` (`sk-cp-…`).
        options: `region: "cn"` selects the China host (base key `minimax_cn`); `group_id`
            is sent as the `GroupId` query parameter when given (not required with a key);
            `usage_count: "used"` reads `*_usage_count` as used rather than remaining (the
            default, which most sources agree on) when no `*_remaining_percent` is present.
        http: factory `http(base_key) -> HttpClient` (see providers.http.ClientFactory).
        state: unused.
        now: current time, epoch seconds, for resets given as `remains_time` (ms from now).

    Returns:
        The windows of the module docstring (percent used 0–100, resets_at epoch seconds UTC)
        and the plan label when the answer carries one. No windows (plan only) when every
        lane is a non-text lane or a placeholder: nothing is metered, and 0 % is not invented.

    Raises:
        AuthFailed: no key stored, HTTP 401/403, or a `base_resp` saying the key is refused.
        ProviderError: another `base_resp` error, neither endpoint present, HTTP trouble.
        BadPayload: no `model_remains`, or a text lane without a figure that can be read.
    """
    key = api_key_from(credentials, "MiniMax")
    china = str(options.get("region", "")).strip().lower() == "cn"
    group_id = options.get("group_id")
    params = {"GroupId": str(group_id).strip()} if str(group_id or "").strip() else None
    headers = {
        "Authorization": f"Bearer {key}",
        "Accept": "application/json",
        "Content-Type": "application/json",
    }
    body = _remains(http("minimax_cn" if china else "minimax"), headers, params, china)
    counts_used = str(options.get("usage_count", "")).strip().lower() == "used"
    return parse_remains(body, now, key=key, china=china, counts_used=counts_used)


def parse_remains(
    body: Any,
    now: float,
    *,
    key: str | None = None,
    china: bool = False,
    counts_used: bool = False,
) -> UsageResult:
    """Turn a `remains` answer into windows (returns and raises as `fetch` does).

    Args:
        body: the decoded JSON answer.
        now: current time, epoch seconds.
        key: the API key, redacted from any provider message that is passed on.
        china: whether the China host was asked (only changes the advice in messages).
        counts_used: read `*_usage_count` as used instead of remaining.
    """
    if not isinstance(body, Mapping):
        raise BadPayload(
            "MiniMax answered with JSON that is not an object; the API may have changed."
        )
    data = body.get("data") if isinstance(body.get("data"), Mapping) else {}
    _check_base_resp(body, data, key, china)
    rows = body.get("model_remains")
    if not isinstance(rows, list):
        rows = data.get("model_remains")
    if not isinstance(rows, list):
        raise no_known_fields("MiniMax", "remains", ("model_remains",))
    if not rows:
        raise BadPayload(
            "MiniMax answered without any model quota (model_remains is empty); the key may "
            "have no active Coding Plan, or the API changed."
        )
    plan = first_text(data, _PLAN_KEYS) or first_text(body, _PLAN_KEYS)
    lanes: list[tuple[str, dict[str, WindowUsage]]] = []
    missing: list[str] = []
    for index, row in enumerate(rows):
        where = f"model_remains[{index}]"
        if not isinstance(row, Mapping):
            raise unreadable("MiniMax", where, row, "an object")
        # A row without model_name is still a quota: it is read (as the coding lane when no
        # named one is there), never skipped in silence.
        name = first_text(row, ("model_name",)) or ""
        if name and _NON_TEXT.search(name):
            continue
        read = {
            kind: _window(row, kind, now, counts_used, name, where)
            for kind in ("interval", "weekly")
        }
        if all(value == "unreadable" for value in read.values()):
            missing.append(f"{where} ({name})" if name else where)
        found = {k: v for k, v in read.items() if isinstance(v, WindowUsage)}
        if found:
            lanes.append((name, found))
    if not lanes and missing:
        raise BadPayload(
            f"MiniMax answered {missing[0]} without current_interval_total_count or "
            "current_interval_remaining_percent; the API may have changed "
            "(`quota-sentinel probe --raw` shows the answer)."
        )
    return UsageResult(windows=_name_windows(lanes), plan=plan)


def _remains(
    client: HttpClient,
    headers: Mapping[str, str],
    params: Mapping[str, str] | None,
    china: bool,
) -> Any:
    try:
        return client.get_json(TOKEN_PLAN_PATH, headers=headers, params=params)
    except ProviderError as exc:
        status = http_status(exc)
        if status not in _FALLBACK_FROM_TOKEN_PLAN:
            raise
        log.debug("minimax: token_plan/remains answered HTTP %s; trying coding_plan", status)
    try:
        return client.get_json(CODING_PLAN_PATH, headers=headers, params=params)
    except AuthFailed as exc:
        raise AuthFailed(
            f"MiniMax rejected the API key (HTTP {http_status(exc)}); {_REGION_ADVICE[china]}."
        ) from None
    except ProviderError as exc:
        if http_status(exc) not in (404, 405):
            raise
        raise ProviderError(
            f"MiniMax has no quota endpoint here (HTTP {http_status(exc)} on both "
            f"{TOKEN_PLAN_PATH} and {CODING_PLAN_PATH}); check the MiniMax base URL setting "
            "and that the key is a Coding Plan key, not a pay-as-you-go one."
        ) from None


def _check_base_resp(
    body: Mapping[str, Any], data: Mapping[str, Any], key: str | None, china: bool
) -> None:
    # MiniMax reports most errors as HTTP 200 with base_resp.status_code != 0.
    resp = body.get("base_resp")
    if not isinstance(resp, Mapping):
        resp = data.get("base_resp")
    if not isinstance(resp, Mapping):
        return
    code = to_float(resp.get("status_code"))
    if code is None or code == 0:
        return
    message = safe_message(resp.get("status_msg"), [key])
    detail = f"status {code:g}" + (f": {message}" if message else "")
    if int(code) in _AUTH_CODES or _AUTH_WORDS.search(message):
        raise AuthFailed(f"MiniMax rejected the API key ({detail}); {_REGION_ADVICE[china]}.")
    raise ProviderError(f"MiniMax reported an error ({detail}).")


def _figure(row: Mapping[str, Any], keys: tuple[str, ...], where: str) -> float | None:
    numbers = (number_at(row, key, "MiniMax", where) for key in keys)
    return next((number for number in numbers if number is not None), None)


def _window(
    row: Mapping[str, Any], kind: Kind, now: float, counts_used: bool, lane: str, where: str
) -> WindowUsage | Literal["skip", "unreadable"]:
    fields = _FIELDS[kind]
    total = _figure(row, fields["total"], where)
    count = _figure(row, fields["count"], where)
    remaining_pct = _figure(row, fields["percent"], where)
    status = first_float(row, fields["status"])
    if total is None and remaining_pct is None:
        return "unreadable"
    if status == _STATUS_PLACEHOLDER and not total and not count and remaining_pct in (None, 100.0):
        return "skip"  # lane not included in the plan, or unlimited
    metadata: dict[str, Any] = {"model": lane} if lane else {}
    if remaining_pct is not None:
        # Newer Token Plan answers carry zero counts and only this percent; it is preferred.
        utilization = 100.0 - remaining_pct
        metadata["remaining_percent"] = remaining_pct
    elif total and total > 0 and count is not None:
        used = count if counts_used else total - count
        utilization = used / total * 100
    else:
        return "skip"  # no weekly quota on this plan (total 0, no percent)
    if total and total > 0 and count is not None:
        metadata["limit"] = total
        metadata["used" if counts_used else "remaining"] = count
    boost = first_float(row, fields["boost"])
    if boost is not None:
        metadata["boost_permille"] = boost
    return WindowUsage(
        utilization=clamp_pct(utilization),
        resets_at=_resets_at(row, fields, now),
        metadata=metadata,
    )


def _resets_at(
    row: Mapping[str, Any], fields: Mapping[str, tuple[str, ...]], now: float
) -> float | None:
    # end_time is absolute (epoch ms); remains_time is relative (ms until the reset).
    for field in fields["end"]:
        moment = epoch_s(row.get(field))
        if moment is not None:
            return moment
    remains_ms = first_float(row, fields["remains"])
    return now + remains_ms / 1000 if remains_ms is not None and remains_ms > 0 else None


def _name_windows(lanes: list[tuple[str, dict[str, WindowUsage]]]) -> dict[str, WindowUsage]:
    canonical = next((i for i, (name, _) in enumerate(lanes) if name.lower() in _CANONICAL), None)
    if canonical is None:
        canonical = next(
            (i for i, (name, _) in enumerate(lanes) if name.lower().startswith("minimax-m")), None
        )
    if canonical is None:
        canonical = next((i for i, (name, _) in enumerate(lanes) if not name), None)
    if canonical is not None:
        lanes = [lanes[canonical]] + lanes[:canonical] + lanes[canonical + 1 :]
    windows: dict[str, WindowUsage] = {}
    for index, (name, found) in enumerate(lanes):
        prefix = "" if canonical is not None and index == 0 else f"{_slug(name)}_"
        for kind, window in found.items():
            windows[unique_name(prefix + kind, windows)] = window
    return windows


def _slug(name: str) -> str:
    if not name:
        return "unnamed"
    return re.sub(r"[^a-z0-9]+", "_", name.lower()).strip("_") or "lane"
