"""Add and remove members of a JSONC document in place, so that removing what was added gives
back the original bytes.

Built on the switcher's span-recording parser (`switcher.jsonc`): nothing is re-serialized, the
text around an edit (comments, key order, indentation, line endings) is copied through. An
addition goes after the container's last child as `,` + newline + indentation + the new text
(or, in an empty container, on its own line before the closing bracket); `remove` deletes exactly
that shape again, so add → remove is the identity on the text.
"""

from __future__ import annotations

import json
import re
from typing import Any

from quota_sentinel.switcher.jsonc import Document, JsoncError, JsonPath, parse

_KEY = re.compile(r'"(?:[^"\\]|\\.)*"\s*:\s*')
_COMMA_GAP = re.compile(r"\s*,\s*")


def _newline(text: str) -> str:
    return "\r\n" if "\r\n" in text else "\n"


def _indent_at(text: str, pos: int) -> str:
    """The leading whitespace of the line that holds `pos`."""
    start = text.rfind("\n", 0, pos) + 1
    line = text[start:pos]
    return line[: len(line) - len(line.lstrip(" \t"))]


def _unit(text: str) -> str:
    """The document's indentation step (two spaces when it has none yet)."""
    found = re.search(r"\n([ \t]+)\S", text)
    return found.group(1) if found else "  "


def render(value: Any, indent: str, unit: str, newline: str) -> str:
    """`value` as JSON, indented to sit at `indent` inside the document."""
    return json.dumps(value, indent=unit, ensure_ascii=False).replace("\n", newline + indent)


def _children(doc: Document, path: JsonPath) -> list[JsonPath]:
    size = len(path) + 1
    kids = [p for p in doc.spans if len(p) == size and p[:-1] == path]
    return sorted(kids, key=lambda p: doc.spans[p].start)


def _child_start(doc: Document, child: JsonPath) -> int:
    """Where a child begins: its key for an object member, its value for an array item."""
    span = doc.spans[child]
    if isinstance(child[-1], int):
        return span.start
    key = json.dumps(child[-1], ensure_ascii=False)
    start = doc.text.rfind(key, 0, span.start)
    return start if start >= 0 and _KEY.fullmatch(doc.text, start, span.start) else span.start


def add(doc: Document, container: JsonPath, key: str | None, value: Any) -> str:
    """The text with `value` appended to the object or array at `container`.

    After a last child it goes on a line of its own (`,` + newline + that child's indentation);
    in an empty container it goes right after the opening bracket, with nothing around it.

    Args:
        doc: the parsed document.
        container: path of an object (then `key` names the new member) or an array.
        key: the member's name, or None to append an array item.
        value: any JSON value.

    Raises:
        KeyError: there is no container at that path.
        JsoncError: the result does not read back as the original plus the addition.
    """
    span = doc.spans.get(container)
    if span is None:
        raise KeyError(container)
    text, newline, unit = doc.text, _newline(doc.text), _unit(doc.text)
    kids = _children(doc, container)
    if kids:
        indent = _indent_at(text, _child_start(doc, kids[-1]))
        at, prefix = doc.spans[kids[-1]].end, "," + newline + indent
    else:
        indent, at, prefix = _indent_at(text, span.start), span.start + 1, ""
    member = render(value, indent, unit, newline)
    if key is not None:
        member = json.dumps(key, ensure_ascii=False) + ": " + member
    result = text[:at] + prefix + member + text[at:]
    _check(result, doc, container, key, value)
    return result


def created(doc: Document, path: JsonPath) -> bool:
    """True when the container at `path` has the layout `render` gives it (a newline right after
    its opening bracket): a member `add` created whole, not one it appended to."""
    span = doc.spans.get(path)
    return span is not None and doc.text[span.start + 1 : span.start + 2] in ("\n", "\r")


def _check(result: str, doc: Document, container: JsonPath, key: str | None, value: Any) -> None:
    expected = json.loads(json.dumps(doc.value))
    target = expected
    for part in container:
        target = target[part]
    if key is None:
        target.append(value)
    else:
        target[key] = value
    if parse(result).value != expected:
        raise JsoncError("the edited text does not read back as intended", result, 0)


def remove(doc: Document, path: JsonPath) -> str:
    """The text without the member or item at `path`, undoing `add` byte for byte.

    With a preceding sibling, the comma and gap before it go too; as the first of several, the
    comma and gap up to the next sibling; alone, everything from the opening bracket to its end.

    Raises:
        KeyError: nothing at `path`.
    """
    if path not in doc.spans or not path:
        raise KeyError(path)
    text = doc.text
    kids = _children(doc, path[:-1])
    index = kids.index(path)
    start, end = _child_start(doc, path), doc.spans[path].end
    if index > 0:
        start = doc.spans[kids[index - 1]].end
    elif index + 1 < len(kids):
        if _COMMA_GAP.match(text, end):
            end = _child_start(doc, kids[index + 1])
    else:
        start = doc.spans[path[:-1]].start + 1
    return text[:start] + text[end:]
