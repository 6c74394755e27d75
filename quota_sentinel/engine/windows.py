"""How long a window is, read from the stable name the providers give it."""

import re

_HOUR_S = 3600
_DAY_S = 24 * _HOUR_S
_UNIT_S = {"h": _HOUR_S, "d": _DAY_S, "w": 7 * _DAY_S, "mo": 30 * _DAY_S}
_SIZED = re.compile(r"(?:^|_)(\d+)(h|d|w|mo)$")
_NAMED_S = {
    "hour": _HOUR_S,
    "daily": _DAY_S,
    "day": _DAY_S,
    "weekly": 7 * _DAY_S,
    "week": 7 * _DAY_S,
    "monthly": 30 * _DAY_S,
    "month": 30 * _DAY_S,
}
_WORDS = {"one": 1, "two": 2, "three": 3, "five": 5, "seven": 7, "thirty": 30}


def window_length_s(name: str) -> float | None:
    """A window's length read from its name (`5h`, `weekly`, `seven_day`, `mcp_monthly`), in
    seconds; None when the name does not tell (e.g. DeepSeek's `balance`)."""
    sized = _SIZED.search(name)
    if sized:
        return int(sized.group(1)) * _UNIT_S[sized.group(2)]
    parts = name.lower().split("_")
    for i, part in enumerate(parts):
        if part in _NAMED_S:
            count = _WORDS.get(parts[i - 1], 1) if i else 1
            return count * _NAMED_S[part]
    return None
