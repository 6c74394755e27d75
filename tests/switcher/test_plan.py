"""plan: the pure decision (no files, no server)."""

from __future__ import annotations

import pytest

from quota_sentinel.switcher.plan import (
    GREEN,
    RED,
    UNKNOWN,
    YELLOW,
    Entry,
    Health,
    Target,
    decide,
    health_of,
    provider_of,
    reconcile,
    restore,
    write_ahead,
)

BUILD = ("agent", "build", "model")
ZAI = "zai-coding-plan/glm-5.1"
DEEPSEEK = "deepseek/deepseek-v3.2"
MINIMAX = "minimax-coding-plan/MiniMax-M2.7"
TARGET = Target(BUILD, "build", ZAI, (DEEPSEEK, MINIMAX))


def h(provider: str, status: str, poll: str | None = "p1") -> Health:
    return Health(provider, status, poll, f"{provider} {status}")


def healths(**statuses: str) -> dict[str, Health]:
    return {name: h(name, status) for name, status in statuses.items()}


@pytest.mark.parametrize(
    ("model", "provider"),
    [
        ("zai-coding-plan/glm-5.1", "zai"),
        ("github-copilot/gpt-5-mini", "copilot"),
        ("anthropic/claude-sonnet-4-5", "claude"),
        ("minimax-coding-plan/MiniMax-M2.7", "minimax"),
        ("bailian-coding-plan/qwen3-coder-plus", "alibaba"),
        ("alibaba-coding-plan/qwen3-max", "alibaba"),
        ("dashscope/qwen3-max", "alibaba"),
        ("openrouter/qwen/qwen3-coder:free", "openrouter"),
        ("ZAI/glm-4.6", "zai"),
        ("opencode/grok-code", None),  # OpenCode Zen, not the ChatGPT subscription
        ("ollama/llama3.1:8b", None),
        ("no-slash", None),
    ],
)
def test_provider_is_the_alias_of_the_text_before_the_first_slash(model, provider):
    assert provider_of(model) == provider


def test_a_provider_not_monitored_counts_as_green():
    health = health_of("ollama/llama3.1:8b", healths(zai=RED))
    assert (health.status, health.monitored) == (GREEN, False)
    # monitored by provider name, but this instance has no account of it
    assert health_of(MINIMAX, healths(zai=RED)).status == GREEN


@pytest.mark.parametrize("status", [YELLOW, RED])
def test_an_unhealthy_original_moves_to_the_first_green_fallback(status):
    decision = decide([TARGET], {}, healths(zai=status, deepseek=GREEN), hold=3)
    (change,) = decision.changes
    assert (change.old, change.new, change.kind) == (ZAI, DEEPSEEK, "switch")
    assert change.reason == f"zai {status}"
    assert decision.entries == (Entry(BUILD, ZAI, DEEPSEEK),)


def test_unhealthy_fallbacks_are_skipped_and_an_unmonitored_one_is_taken():
    decision = decide([TARGET], {}, healths(zai=RED, deepseek=YELLOW), hold=3)
    assert decision.changes[0].new == MINIMAX


def test_all_fallbacks_unhealthy_stays_and_says_why():
    decision = decide([TARGET], {}, healths(zai=RED, deepseek=RED, minimax=UNKNOWN), hold=3)
    assert decision.changes == () and decision.entries == ()
    assert decision.notes == (
        f"build stays on {ZAI} (zai RED): no fallback is GREEN (deepseek RED; minimax UNKNOWN)",
    )


def test_green_and_unknown_originals_stay_silently():
    for status in (GREEN, UNKNOWN):
        assert decide([TARGET], {}, healths(zai=status, deepseek=GREEN), hold=3).changes == ()


def test_an_unhealthy_model_without_fallbacks_gets_a_note_only():
    target = Target(("model",), "model", ZAI)
    decision = decide([target], {}, healths(zai=RED), hold=3)
    assert decision.changes == ()
    assert decision.notes == (f"model stays on {ZAI} (zai RED): it has no fallbacks",)


def _poll(entry: Entry, status: str, poll: str | None, hold: int = 3):
    return decide(
        [Target(BUILD, "build", entry.current, TARGET.fallbacks)],
        {BUILD: entry},
        {"zai": h("zai", status, poll), "deepseek": h("deepseek", GREEN, poll)},
        hold,
    )


def test_recovery_after_exactly_hold_consecutive_green_polls():
    entry = Entry(BUILD, ZAI, DEEPSEEK)
    for n in (1, 2):
        decision = _poll(entry, GREEN, f"p{n}")
        assert decision.changes == ()
        (entry,) = decision.entries
        assert entry.green_polls == n
    decision = _poll(entry, GREEN, "p3")
    (change,) = decision.changes
    assert (change.old, change.new, change.kind) == (DEEPSEEK, ZAI, "recover")
    assert change.reason == "zai GREEN for 3 polls: back to the original"
    assert decision.entries == ()


def test_the_same_provider_poll_counts_once():
    entry = Entry(BUILD, ZAI, DEEPSEEK)
    for _ in range(5):
        (entry,) = _poll(entry, GREEN, "same").entries
    assert entry.green_polls == 1


def test_without_poll_ids_every_look_counts():
    entry = Entry(BUILD, ZAI, DEEPSEEK)
    (entry,) = _poll(entry, GREEN, None, hold=2).entries
    assert _poll(entry, GREEN, None, hold=2).changes[0].kind == "recover"


@pytest.mark.parametrize("status", [YELLOW, RED, UNKNOWN])
def test_a_poll_that_is_not_green_starts_the_count_again(status):
    entry = Entry(BUILD, ZAI, DEEPSEEK, green_polls=2, last_poll="p2")
    (entry,) = _poll(entry, status, "p3").entries
    assert (entry.green_polls, entry.last_poll) == (0, None)


def test_a_fallback_that_turns_red_moves_to_the_next_green_one():
    entry = Entry(BUILD, ZAI, DEEPSEEK)
    target = Target(BUILD, "build", DEEPSEEK, TARGET.fallbacks)
    decision = decide([target], {BUILD: entry}, healths(zai=RED, deepseek=RED), hold=3)
    (change,) = decision.changes
    assert (change.new, change.kind) == (MINIMAX, "move")
    assert decision.entries == (Entry(BUILD, ZAI, MINIMAX),)


def test_a_red_fallback_with_no_green_alternative_stays():
    entry = Entry(BUILD, ZAI, DEEPSEEK)
    target = Target(BUILD, "build", DEEPSEEK, (DEEPSEEK,))
    decision = decide([target], {BUILD: entry}, healths(zai=RED, deepseek=RED), hold=3)
    assert decision.changes == () and decision.entries == (entry,)
    assert "no fallback is GREEN" in decision.notes[0]


def test_a_red_fallback_returns_early_to_a_green_original():
    entry = Entry(BUILD, ZAI, DEEPSEEK)
    target = Target(BUILD, "build", DEEPSEEK, TARGET.fallbacks)
    decision = decide([target], {BUILD: entry}, healths(zai=GREEN, deepseek=RED), hold=3)
    assert decision.changes[0].kind == "recover" and decision.changes[0].new == ZAI


def test_reconcile_finishes_or_drops_an_interrupted_write():
    labels = {BUILD: "build"}
    landed = Entry(BUILD, ZAI, ZAI, pending=DEEPSEEK)
    kept, notes = reconcile([landed], {BUILD: DEEPSEEK}, labels)
    assert kept == {BUILD: Entry(BUILD, ZAI, DEEPSEEK)} and notes == []
    kept, notes = reconcile([landed], {BUILD: ZAI}, labels)
    assert kept == {} and notes == []
    recovering = Entry(BUILD, ZAI, DEEPSEEK, pending=ZAI)
    assert reconcile([recovering], {BUILD: ZAI}, labels) == ({}, [])
    assert reconcile([recovering], {BUILD: DEEPSEEK}, labels)[0] == {
        BUILD: Entry(BUILD, ZAI, DEEPSEEK)
    }


def test_reconcile_adopts_a_hand_edit_as_the_new_original():
    kept, notes = reconcile([Entry(BUILD, ZAI, DEEPSEEK)], {BUILD: "x/y"}, {BUILD: "build"})
    assert kept == {}
    assert notes == ["build: x/y was set by hand; it is the new original"]


def test_reconcile_forgets_a_target_that_left_the_config():
    kept, notes = reconcile([Entry(BUILD, ZAI, DEEPSEEK)], {}, {})
    assert kept == {} and "no longer in the config" in notes[0]


def test_restore_puts_originals_back_and_forgets_them():
    target = Target(BUILD, "build", DEEPSEEK, ())
    decision = restore(
        [target, Target(("model",), "model", ZAI)], {BUILD: Entry(BUILD, ZAI, DEEPSEEK)}
    )
    assert [(c.old, c.new, c.kind) for c in decision.changes] == [(DEEPSEEK, ZAI, "restore")]
    assert decision.entries == ()


def test_write_ahead_marks_every_change_pending_before_the_config_is_written():
    model = ("model",)
    entries = {BUILD: Entry(BUILD, ZAI, DEEPSEEK, green_polls=2, last_poll="p2")}
    targets = [
        Target(BUILD, "build", DEEPSEEK, TARGET.fallbacks),
        Target(model, "model", ZAI, (DEEPSEEK,)),
    ]
    decision = decide(targets, entries, healths(zai=RED, deepseek=GREEN), 3)
    ahead = write_ahead(entries, decision)
    assert ahead == (
        Entry(BUILD, ZAI, DEEPSEEK, green_polls=2, last_poll="p2"),
        Entry(model, ZAI, ZAI, pending=DEEPSEEK),
    )
    recovering = decide(targets, entries, {"zai": h("zai", GREEN, "p3")}, 3)
    assert write_ahead(entries, recovering) == (
        Entry(BUILD, ZAI, DEEPSEEK, pending=ZAI, green_polls=2, last_poll="p2"),
    )
