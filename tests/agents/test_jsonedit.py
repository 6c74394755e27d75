"""In-place JSONC edits: what `add` puts in reads back as intended, and `remove` takes it out
again byte for byte, whatever the layout around it."""

from __future__ import annotations

import json
from typing import Any

from hypothesis import given, settings
from hypothesis import strategies as st

from quota_sentinel.agents import jsonedit
from quota_sentinel.switcher.jsonc import parse

scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-1000, 1000), st.text('abc \\"é', max_size=5)
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text("xyz", max_size=3), inner, max_size=3)
    ),
    max_leaves=12,
)
documents = st.dictionaries(st.text("klm", max_size=4), values, max_size=4)
layouts = st.sampled_from([None, 2, 4, "\t"])


def _containers(value: Any, path: tuple = ()) -> list[tuple]:
    found = [path] if isinstance(value, dict | list) else []
    children = (
        value.items()
        if isinstance(value, dict)
        else enumerate(value)
        if isinstance(value, list)
        else []
    )
    for key, child in children:
        found += _containers(child, (*path, key))
    return found


def _at(value: Any, path: tuple) -> Any:
    for part in path:
        value = value[part]
    return value


@settings(max_examples=200, deadline=None)
@given(documents, layouts, st.data(), values, st.booleans())
def test_add_then_remove_gives_back_the_text(document, indent, data, new, crlf):
    text = json.dumps(document, indent=indent, ensure_ascii=False)
    if crlf:
        text = text.replace("\n", "\r\n")
    doc = parse(text)
    container = data.draw(st.sampled_from(_containers(document)))
    target = _at(document, container)
    key = None if isinstance(target, list) else "new-key"
    added = jsonedit.add(doc, container, key, new)

    after = parse(added)
    child = (*container, len(target) if key is None else key)
    assert _at(after.value, child) == new
    assert jsonedit.remove(after, child) == text


def test_comments_and_trailing_commas_around_an_addition_stay():
    text = '{\n  // why\n  "a": [1, 2,], /* keep */\n  "b": {}\n}\n'
    doc = parse(text)
    added = jsonedit.add(doc, ("a",), None, {"x": 1})
    assert "// why" in added and "/* keep */" in added
    assert parse(added).value == {"a": [1, 2, {"x": 1}], "b": {}}
    assert jsonedit.remove(parse(added), ("a", 2)) == text
    into_empty = jsonedit.add(doc, ("b",), "k", [True])
    assert '"b": {"k": [\n' in into_empty
    assert jsonedit.remove(parse(into_empty), ("b", "k")) == text


def test_created_tells_a_rendered_container_from_one_that_was_there():
    doc = parse('{"hooks": {}}')
    added = parse(jsonedit.add(doc, (), "more", {"E": [1]}))
    assert jsonedit.created(added, ("more",)) and not jsonedit.created(added, ("hooks",))
