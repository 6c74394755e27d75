"""JSONC (JSON with comments and trailing commas): parse with value spans, splice strings in place.

OpenCode reads `opencode.json(c)` with `//` and `/* */` comments and trailing commas. The switcher
must change model strings and nothing else, so instead of re-serializing a parsed tree it parses
once to learn the exact character span of every value, then replaces only the spans it changes.
Everything between those spans (comments, commas, indentation, line endings, key order) is copied
through untouched, and the result is parsed again and compared before anyone writes it.
"""

from __future__ import annotations

import copy
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

JsonPath = tuple[str | int, ...]

MAX_DEPTH = 200
BOM = "\ufeff"

# Whitespace and comments between tokens; an unterminated /* is caught separately.
_GAP = re.compile(r"(?:[ \t\n\r]+|//[^\n\r]*|/\*.*?\*/)*", re.S)
# A string token; escapes and code points are validated by json.loads afterwards.
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\[^\x00-\x1f])*"')
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = (("true", True), ("false", False), ("null", None))


class JsoncError(ValueError):
    """Text that is not JSONC; the message names the line and column."""

    def __init__(self, reason: str, text: str, pos: int) -> None:
        self.reason = reason
        self.line = text.count("\n", 0, pos) + 1
        self.column = pos - (text.rfind("\n", 0, pos) + 1) + 1
        super().__init__(f"line {self.line}, column {self.column}: {reason}")


@dataclass(frozen=True)
class Span:
    """Character offsets [start, end) of one value in the text."""

    start: int
    end: int


@dataclass(frozen=True)
class Document:
    """A parsed JSONC text.

    Args:
        text: the text as read.
        value: the plain Python value (dicts, lists, str, int, float, bool, None); a repeated
            key keeps its last value, as JSON.parse does.
        spans: path (object keys and list indices) → span of the value at that path, for
            every value that survives in `value`.
    """

    text: str
    value: Any
    spans: Mapping[JsonPath, Span]


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 1 if text.startswith(BOM) else 0
        self.spans: dict[JsonPath, Span] = {}

    def fail(self, reason: str, pos: int | None = None) -> JsoncError:
        return JsoncError(reason, self.text, self.pos if pos is None else pos)

    def gap(self) -> str:
        """Skips whitespace and comments; returns the next character ('' at the end)."""
        self.pos = _GAP.match(self.text, self.pos).end()
        if self.text.startswith("/*", self.pos):
            raise self.fail("a /* comment is never closed")
        if self.text.startswith("/", self.pos):
            raise self.fail("unexpected '/' (comments start with // or /*)")
        return self.text[self.pos : self.pos + 1]

    def document(self) -> Any:
        if not self.gap():
            raise self.fail("the file is empty; expected a JSON object")
        value = self.value((), 0)
        if self.gap():
            raise self.fail("unexpected text after the end of the JSON value")
        return value

    def value(self, path: JsonPath, depth: int) -> Any:
        if depth > MAX_DEPTH:
            raise self.fail("nested too deeply")
        char = self.gap()
        start = self.pos
        if char == "{":
            value: Any = self.object(path, depth)
        elif char == "[":
            value = self.array(path, depth)
        elif char == '"':
            value = self.string()
        elif char == "":
            raise self.fail("unexpected end of the file; a value is missing")
        else:
            value = self.scalar(char)
        self.spans[path] = Span(start, self.pos)
        return value

    def scalar(self, char: str) -> Any:
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            return json.loads(match.group())
        for word, value in _LITERALS:
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return value
        raise self.fail(f"unexpected {char!r}; expected a value")

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        if match is None:
            raise self.string_problem()
        try:
            value = json.loads(match.group())
        except ValueError:
            raise self.fail("a string contains an invalid escape sequence") from None
        self.pos = match.end()
        return value

    def string_problem(self) -> JsoncError:
        i = self.pos + 1
        while i < len(self.text):
            char = self.text[i]
            if char < " ":
                return self.fail("a raw control character (a line break?) inside a string", i)
            i += 2 if char == "\\" else 1
        return self.fail("a string is never closed")

    def object(self, path: JsonPath, depth: int) -> dict[str, Any]:
        self.pos += 1
        result: dict[str, Any] = {}
        if self.gap() == "}":
            self.pos += 1
            return result
        while True:
            if self.gap() != '"':
                raise self.fail("expected a property name in double quotes")
            key = self.string()
            if self.gap() != ":":
                raise self.fail("expected ':' after the property name")
            self.pos += 1
            child = (*path, key)
            if key in result:
                self.forget(child)
            result[key] = self.value(child, depth + 1)
            char = self.gap()
            if char == ",":
                self.pos += 1
                if self.gap() == "}":  # trailing comma
                    self.pos += 1
                    return result
            elif char == "}":
                self.pos += 1
                return result
            else:
                raise self.fail("expected ',' or '}' after a property value")

    def array(self, path: JsonPath, depth: int) -> list[Any]:
        self.pos += 1
        result: list[Any] = []
        if self.gap() == "]":
            self.pos += 1
            return result
        while True:
            result.append(self.value((*path, len(result)), depth + 1))
            char = self.gap()
            if char == ",":
                self.pos += 1
                if self.gap() == "]":  # trailing comma
                    self.pos += 1
                    return result
            elif char == "]":
                self.pos += 1
                return result
            else:
                raise self.fail("expected ',' or ']' after an array item")

    def forget(self, prefix: JsonPath) -> None:
        """Drops the spans of a value that a repeated key replaces."""
        size = len(prefix)
        for path in [p for p in self.spans if p[:size] == prefix]:
            del self.spans[path]


def parse(text: str) -> Document:
    """Parses JSONC text, recording the span of every value.

    Raises:
        JsoncError: the text is not JSON with comments and trailing commas.
    """
    parser = _Parser(text)
    try:
        value = parser.document()
    except RecursionError:
        raise parser.fail("nested too deeply") from None
    return Document(text, value, parser.spans)


def loads(text: str) -> Any:
    """The plain value of a JSONC text (see `parse`)."""
    return parse(text).value


def get(value: Any, path: JsonPath) -> Any:
    """The value at `path` inside `value`; KeyError/IndexError/TypeError when it is not there."""
    for part in path:
        value = value[part]
    return value


def _set(value: Any, path: JsonPath, new: Any) -> None:
    get(value, path[:-1])[path[-1]] = new


def replace_strings(doc: Document, replacements: Mapping[JsonPath, str]) -> Document:
    """Replaces string values in place; every other character of the text stays as it was.

    Args:
        doc: the parsed document.
        replacements: path of a string value → its new value (JSON-escaped on the way in).

    Returns:
        The new document, parsed again from the new text.

    Raises:
        KeyError: a path does not name a string value of `doc`.
        JsoncError: the new text does not parse back to the expected value (a bug guard: the
            caller must not write it).
    """
    edits: list[tuple[int, int, str]] = []
    expected = copy.deepcopy(doc.value)
    for path, new in replacements.items():
        span = doc.spans.get(path)
        if span is None or not isinstance(get(doc.value, path), str) or not path:
            raise KeyError(f"no string value at {'.'.join(map(str, path)) or 'the top'}")
        edits.append((span.start, span.end, json.dumps(new, ensure_ascii=False)))
        _set(expected, path, new)
    pieces: list[str] = []
    last = 0
    for start, end, token in sorted(edits):
        pieces += [doc.text[last:start], token]
        last = end
    pieces.append(doc.text[last:])
    result = parse("".join(pieces))
    if result.value != expected:
        raise JsoncError("the edited text does not read back as intended", result.text, 0)
    return result
