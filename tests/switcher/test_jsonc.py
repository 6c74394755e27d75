"""jsonc: parsing JSON with comments and trailing commas, and splicing strings byte-for-byte."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from quota_sentinel.switcher import jsonc

FIXTURES = Path(__file__).parent / "fixtures"


def read(name: str) -> str:
    return (FIXTURES / name).read_bytes().decode("utf-8")


@pytest.mark.parametrize("name", ["agent-caddy.json", "top-level-only.json", "strict.json"])
def test_strict_json_reads_as_json_does(name: str):
    assert jsonc.loads(read(name)) == json.loads(read(name))


def test_comments_and_trailing_commas_are_accepted():
    value = jsonc.loads(read("commented.jsonc"))
    assert value["agent"]["build"] == {"model": "zai-coding-plan/glm-5.1", "temperature": 0.2}
    # the commented-out "model" line is a comment, not a value
    assert value["agent"]["plan"]["model"] == "anthropic/claude-sonnet-4-5"
    assert value["provider"]["deepseek"]["options"]["apiKey"] == "{env:DEEPSEEK_API_KEY}"


def test_tabs_crlf_escaped_keys_and_model_ids_with_slashes_colons_and_dots():
    agents = jsonc.loads(read("spaces.jsonc"))["agent"]
    assert agents["code reviewer"]["fallback_models"][0] == "openrouter/qwen/qwen3-coder:free"
    assert agents["révision"]["model"] == "deepseek/deepseek-v3.2"


def test_spans_point_at_the_exact_characters_of_each_value():
    doc = jsonc.parse(read("commented.jsonc"))
    span = doc.spans[("agent", "build", "model")]
    assert doc.text[span.start : span.end] == '"zai-coding-plan/glm-5.1"'
    assert doc.text[span.end : span.end + 26] == ", // the model we pay for\n"


def test_a_repeated_key_keeps_its_last_value_and_span():
    doc = jsonc.parse('{"agent": {"a": {"model": "x/1"}}, "agent": {"b": {"model": "y/2"}}}')
    assert doc.value == {"agent": {"b": {"model": "y/2"}}}
    assert ("agent", "a", "model") not in doc.spans
    assert doc.text[slice(*vars(doc.spans[("agent", "b", "model")]).values())] == '"y/2"'


def test_splicing_changes_only_the_value_and_escapes_it():
    text = read("commented.jsonc")
    doc = jsonc.parse(text)
    new = jsonc.replace_strings(doc, {("agent", "build", "model"): 'odd/"quoted"\\ñ'})
    old_token = '"zai-coding-plan/glm-5.1", // the model we pay for'
    assert new.text == text.replace(old_token, '"odd/\\"quoted\\"\\\\ñ", // the model we pay for')
    assert new.value["agent"]["build"]["model"] == 'odd/"quoted"\\ñ'
    assert new.value["model"] == "zai-coding-plan/glm-5.1"


def test_splicing_an_escaped_value_writes_it_plainly_and_keeps_crlf():
    text = read("spaces.jsonc")
    new = jsonc.replace_strings(
        jsonc.parse(text), {("agent", "révision", "model"): "zai-coding-plan/glm-4.5-air"}
    )
    assert new.text == text.replace('"deepseek\\/deepseek-v3.2"', '"zai-coding-plan/glm-4.5-air"')
    assert new.text.count("\r\n") == text.count("\r\n")


def test_a_byte_order_mark_is_kept():
    text = '\ufeff{"model": "a/b"}'
    new = jsonc.replace_strings(jsonc.parse(text), {("model",): "c/d"})
    assert new.text == '\ufeff{"model": "c/d"}'


def test_only_string_values_can_be_replaced():
    doc = jsonc.parse('{"a": 1, "b": "x"}')
    with pytest.raises(KeyError):
        jsonc.replace_strings(doc, {("a",): "y"})
    with pytest.raises(KeyError):
        jsonc.replace_strings(doc, {("c",): "y"})


@pytest.mark.parametrize(
    ("text", "line", "column", "reason"),
    [
        ("", 1, 1, "empty"),
        ("{\n  ,}", 2, 3, "property name"),
        ("[1,,]", 1, 4, "expected a value"),
        ('{"a": 1\n "b": 2}', 2, 2, "expected ',' or '}'"),
        ("{} /* open", 1, 4, "never closed"),
        ('{"a": "line\nbreak"}', 1, 12, "control character"),
        ('{"a": "no end}', 1, 7, "never closed"),
        ('{"a": "\\q"}', 1, 7, "escape"),
        ('{"a": 01}', 1, 8, "expected ',' or '}'"),
        ('{"a": tru}', 1, 7, "expected a value"),
        ("{} x", 1, 4, "after the end"),
        ("{} / x", 1, 4, "comments start with"),
        ("[" * 600 + "]" * 600, 1, 202, "nested too deeply"),
    ],
)
def test_errors_name_line_column_and_reason(text: str, line: int, column: int, reason: str):
    with pytest.raises(jsonc.JsoncError) as caught:
        jsonc.parse(text)
    assert (caught.value.line, caught.value.column) == (line, column)
    assert reason in caught.value.reason


# -- properties ---------------------------------------------------------------------------------

GAPS = st.sampled_from(["", " ", "\n", "\t", "\r\n  ", " // note\n", "/* c */", "/*\n*/ "])
KEYS = st.text(st.characters(codec="utf-8", exclude_categories=("Cs",)), max_size=8)
SCALARS = (
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=False, allow_infinity=False, width=32)
    | KEYS
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(KEYS, inner, max_size=4),
    max_leaves=12,
)


@st.composite
def rendered(draw: st.DrawFn, value: object) -> str:
    """`value` as JSONC with random whitespace, comments and trailing commas."""

    def gap() -> str:
        return draw(GAPS)

    def render(item: object) -> str:
        if isinstance(item, dict):
            parts = [f"{gap()}{json.dumps(k)}{gap()}:{render(v)}" for k, v in item.items()]
            trailing = "," + gap() if parts and draw(st.booleans()) else ""
            return gap() + "{" + ",".join(parts) + trailing + gap() + "}" + gap()
        if isinstance(item, list):
            parts = [render(v) for v in item]
            trailing = "," + gap() if parts and draw(st.booleans()) else ""
            return gap() + "[" + ",".join(parts) + trailing + gap() + "]" + gap()
        return gap() + json.dumps(item, ensure_ascii=draw(st.booleans())) + gap()

    return render(value)


def _string_paths(value: object, path: tuple = ()) -> list[tuple]:
    if isinstance(value, str):
        return [path]
    if isinstance(value, dict):
        return [p for k, v in value.items() for p in _string_paths(v, (*path, k))]
    if isinstance(value, list):
        return [p for i, v in enumerate(value) for p in _string_paths(v, (*path, i))]
    return []


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(data=st.data(), value=VALUES)
def test_any_rendering_parses_back_and_splices_touch_nothing_else(data, value):
    text = data.draw(rendered(value))
    doc = jsonc.parse(text)
    assert doc.value == value
    paths = [p for p in _string_paths(value) if p]
    if not paths:
        return
    path = data.draw(st.sampled_from(paths))
    new_value = data.draw(KEYS)
    span = doc.spans[path]
    new = jsonc.replace_strings(doc, {path: new_value})
    token = json.dumps(new_value, ensure_ascii=False)
    assert new.text == text[: span.start] + token + text[span.end :]
