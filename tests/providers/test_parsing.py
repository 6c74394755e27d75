"""providers.parsing: numbers, times and messages as undocumented APIs send them."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from quota_sentinel.providers.parsing import clamp_pct, epoch_s, safe_message, to_float

MAY_14_18H = datetime(2026, 5, 14, 18, 0, tzinfo=UTC).timestamp()


@pytest.mark.parametrize(
    ("value", "expected"),
    [(41, 41.0), (12.5, 12.5), ("86.40", 86.4), (" 7 ", 7.0), ("1e3", 1000.0), (0, 0.0)],
)
def test_to_float_reads_numbers_and_numeric_text(value: object, expected: float) -> None:
    assert to_float(value) == expected


@pytest.mark.parametrize("value", [None, True, False, "", "n/a", "nan", "inf", [], {}, "41%"])
def test_to_float_refuses_anything_else(value: object) -> None:
    assert to_float(value) is None


@pytest.mark.parametrize(
    "value",
    [
        MAY_14_18H,
        int(MAY_14_18H),
        str(int(MAY_14_18H)),
        int(MAY_14_18H * 1000),
        str(int(MAY_14_18H * 1000)),
        "2026-05-14T18:00:00Z",
        "2026-05-14T18:00:00+00:00",
        "2026-05-14T20:00:00+02:00",
        "2026-05-14T18:00:00",
        "2026-05-14T18:00:00.000000",
        "2026-05-14T18:00:00.000000000Z",
    ],
)
def test_epoch_s_reads_seconds_milliseconds_and_iso(value: object) -> None:
    assert epoch_s(value) == pytest.approx(MAY_14_18H)


def test_epoch_s_keeps_sub_second_precision() -> None:
    assert epoch_s("2026-05-14T18:00:00.412233+00:00") == pytest.approx(MAY_14_18H + 0.412233)
    assert epoch_s("2026-05-18T15:23:13.716839300Z") == pytest.approx(
        datetime(2026, 5, 18, 15, 23, 13, 716839, tzinfo=UTC).timestamp()
    )


def test_epoch_s_reads_a_bare_date_as_midnight_utc() -> None:
    assert epoch_s("2026-05-14") == datetime(2026, 5, 14, tzinfo=UTC).timestamp()


@pytest.mark.parametrize("value", [None, -1, "-1", 0, "0", "", "soon", True, {}])
def test_epoch_s_gives_none_for_no_reset(value: object) -> None:
    assert epoch_s(value) is None


@pytest.mark.parametrize(("value", "expected"), [(-3.0, 0.0), (41.5, 41.5), (100.4, 100.0)])
def test_clamp_pct_keeps_utilization_between_0_and_100(value: float, expected: float) -> None:
    assert clamp_pct(value) == expected


def test_safe_message_redacts_secrets_and_shortens() -> None:
    text = "bad key zai-secret-1 in\nheader " + "x" * 400
    result = safe_message(text, ["zai-secret-1", None, ""])
    assert "zai-secret-1" not in result and "****" in result
    assert "\n" not in result and len(result) == 200
    assert safe_message(None, ["k"]) == ""
