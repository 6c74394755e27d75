"""Tests for advice per framework: claude (strict) and opencode (fallback-aware)."""

import pytest

from quota_sentinel.engine import Advice, Recommendation, Status, recommend

G, Y, R, U = Status.GREEN, Status.YELLOW, Status.RED, Status.UNKNOWN


@pytest.mark.parametrize("framework", ["claude", "opencode", "some-new-agent"])
@pytest.mark.parametrize("statuses", [{}, {"zai": U}, {"zai": U, "deepseek": U}])
def test_no_data_yet_means_proceed(framework, statuses):
    advice = recommend(framework, statuses)

    assert advice.recommendation is Recommendation.PROCEED
    assert advice.overall_status is Status.UNKNOWN
    assert "no current quota data" in advice.message
    assert advice.alternative_providers == []
    assert advice.all_exhausted is False


@pytest.mark.parametrize(
    ("statuses", "expected", "message"),
    [
        (
            {"claude": R, "zai": G},
            Recommendation.STOP,
            "claude is RED; stop until its window resets.",
        ),
        (
            {"zai": R, "claude": R, "deepseek": Y},
            Recommendation.STOP,
            "claude and zai are RED; stop until their windows reset.",
        ),
        (
            {"claude": Y, "zai": G},
            Recommendation.PROCEED_SMALL_ONLY,
            "claude is YELLOW; take on small tasks only.",
        ),
        ({"claude": G, "zai": G}, Recommendation.PROCEED, "No provider is near its cap; proceed."),
        (
            {"claude": G, "zai": U},
            Recommendation.PROCEED,
            "No provider is near its cap (no current data for zai); proceed.",
        ),
    ],
)
def test_claude_is_strict(statuses, expected, message):
    advice = recommend("claude", statuses)

    assert advice.recommendation is expected
    assert advice.message == message
    assert advice.alternative_providers == []
    assert advice.all_exhausted is False


def test_claude_all_red_is_exhausted():
    advice = recommend("claude", {"claude": R, "zai": R})

    assert advice.recommendation is Recommendation.STOP
    assert advice.overall_status is Status.RED
    assert advice.all_exhausted is True


@pytest.mark.parametrize("framework", ["aider", "", "Claude"])
def test_unknown_frameworks_get_the_strict_rule(framework):
    advice = recommend(framework, {"zai": R, "deepseek": G})

    assert advice.recommendation is Recommendation.STOP
    assert advice.alternative_providers == []


def test_opencode_stops_only_when_every_provider_is_red():
    advice = recommend("opencode", {"zai": R, "deepseek": R})

    assert advice.recommendation is Recommendation.STOP
    assert advice.all_exhausted is True
    assert advice.message == "Every provider is RED (deepseek and zai); stop until a window resets."


def test_opencode_red_with_green_alternative_proceeds_and_names_it():
    advice = recommend("opencode", {"zai": R, "deepseek": G})

    assert advice.recommendation is Recommendation.PROCEED
    assert advice.overall_status is Status.RED
    assert advice.alternative_providers == ["deepseek"]
    assert advice.message == "zai is RED; switch to deepseek."
    assert advice.all_exhausted is False


def test_opencode_names_every_green_alternative_sorted():
    statuses = {"zai": R, "minimax": Y, "deepseek": G, "alibaba": G, "copilot": U}

    advice = recommend("opencode", statuses)

    assert advice.recommendation is Recommendation.PROCEED
    assert advice.alternative_providers == ["alibaba", "deepseek"]
    assert advice.message == "zai is RED and minimax is YELLOW; switch to alibaba and deepseek."


def test_opencode_yellow_with_green_alternative_proceeds():
    advice = recommend("opencode", {"zai": Y, "deepseek": G})

    assert advice.recommendation is Recommendation.PROCEED
    assert advice.overall_status is Status.YELLOW
    assert advice.alternative_providers == ["deepseek"]


def test_opencode_red_and_yellow_without_green_is_small_only():
    advice = recommend("opencode", {"zai": R, "minimax": Y})

    assert advice.recommendation is Recommendation.PROCEED_SMALL_ONLY
    assert advice.alternative_providers == []
    assert advice.message == "zai is RED and minimax is YELLOW; use minimax for small tasks only."


def test_opencode_all_yellow_is_small_only():
    advice = recommend("opencode", {"zai": Y, "minimax": Y})

    assert advice.recommendation is Recommendation.PROCEED_SMALL_ONLY
    assert advice.message == "minimax and zai are YELLOW; use minimax and zai for small tasks only."


def test_opencode_red_and_unknown_only_is_small_only():
    advice = recommend("opencode", {"zai": R, "deepseek": U})

    assert advice.recommendation is Recommendation.PROCEED_SMALL_ONLY
    assert advice.all_exhausted is False
    assert advice.message == (
        "zai is RED and there is no current data for deepseek; take on small tasks only."
    )


def test_opencode_without_trouble_proceeds_without_alternatives():
    advice = recommend("opencode", {"zai": G, "deepseek": G, "minimax": U})

    assert advice.recommendation is Recommendation.PROCEED
    assert advice.alternative_providers == []
    assert advice.overall_status is Status.GREEN


def test_advice_to_dict():
    advice = Advice(
        Status.RED, Recommendation.PROCEED, "zai is RED; switch to deepseek.", ["deepseek"], False
    )

    assert advice.to_dict() == {
        "overall_status": "RED",
        "recommendation": "PROCEED",
        "message": "zai is RED; switch to deepseek.",
        "alternative_providers": ["deepseek"],
        "all_exhausted": False,
    }


def test_messages_do_not_depend_on_mapping_order():
    one = recommend("opencode", {"zai": R, "minimax": R, "deepseek": G, "alibaba": G})
    two = recommend("opencode", {"alibaba": G, "deepseek": G, "minimax": R, "zai": R})

    assert one == two


def test_framework_name_is_case_insensitive():
    advice = recommend(" OpenCode ", {"zai": R, "deepseek": G})

    assert advice.recommendation is Recommendation.PROCEED
    assert advice.alternative_providers == ["deepseek"]
