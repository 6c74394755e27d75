"""The repository explains itself: docs/ agrees with the code, and every citation resolves."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

from quota_sentinel.store import keys as keys_module
from quota_sentinel.store.keys import Keys

ROOT = Path(__file__).resolve().parent.parent
DOCS = ROOT / "docs"
ARCHITECTURE = DOCS / "architecture.md"
SCANNED = ("quota_sentinel", "workers", "tests", "bench", "docs", "examples", ".ci")
TOP_FILES = ("README.md", "pyproject.toml", "Makefile", "Dockerfile", "fly.toml", "wsgi.py")
TEXT = {".py", ".md", ".toml", ".txt", ".html", ".js", ".css", ".yaml", ".yml", ".json", ".jsonc"}
# Documents that are not in the repository: the design notes the project started from.
OUTSIDE = re.compile(
    r"DESIGN\s*(§|\.md)|STYLE\s*(H\d|\.md)|\.\./shared/|(?<![\w/])providers\.md\s*§"
)
SECTION_CITE = re.compile(r"docs/([\w-]+\.md)\s*§\s*(\w+)")
# `docs/providers.md (Claude)`, `docs/providers.md, "One rule for every provider"`: a heading.
NAMED_CITE = re.compile(
    r'docs/([\w-]+\.md)(?:, | \()"?([A-Z][\w./ -]*?)"?(?=[),:;]|\.\s|\.$|\s*$)', re.M
)


def _files() -> list[Path]:
    found = [ROOT / name for name in TOP_FILES if (ROOT / name).exists()]
    for top in SCANNED:
        for path in (ROOT / top).rglob("*"):
            if path.is_file() and "__pycache__" not in path.parts:
                if path.suffix in TEXT or path.parent.name == ".ci":
                    found.append(path)
    return sorted(found)


def _section(text: str, number: str) -> str:
    """The body of `## <number>. …` up to the next `## ` heading."""
    match = re.search(rf"^## {re.escape(number)}\. .*?(?=^## |\Z)", text, re.M | re.S)
    assert match, f"docs/architecture.md has no section {number}"
    return match.group(0)


def _slug(heading: str) -> str:
    """GitHub's anchor for a heading."""
    text = re.sub(r"[^\w\- ]", "", heading.strip().lower())
    return text.replace(" ", "-")


def _anchors(path: Path) -> set[str]:
    return {_slug(h) for h in re.findall(r"^#+ (.+)$", path.read_text(), re.M)}


def test_nothing_cites_a_document_outside_the_repository():
    cites = [
        f"{path.relative_to(ROOT)}:{n}: {line.strip()}"
        for path in _files()
        for n, line in enumerate(path.read_text(errors="replace").splitlines(), 1)
        if OUTSIDE.search(line)
    ]
    assert not cites, "cite docs/ instead:\n" + "\n".join(cites)


def test_every_cited_docs_section_exists():
    missing = []
    for path in _files():
        for name, number in SECTION_CITE.findall(path.read_text(errors="replace")):
            target = DOCS / name
            heading = re.compile(rf"^#+ {re.escape(number)}[.:)]? ", re.M)
            if not target.exists() or not heading.search(target.read_text()):
                missing.append(f"{path.relative_to(ROOT)} cites docs/{name} §{number}")
    assert not missing, "\n".join(missing)


def test_every_section_cited_by_name_exists():
    missing = []
    for path in _files():
        for name, title in NAMED_CITE.findall(path.read_text(errors="replace")):
            target = DOCS / name
            heading = re.compile(rf"^#+ {re.escape(title)}\b", re.M)
            if not target.exists() or not heading.search(target.read_text()):
                missing.append(f"{path.relative_to(ROOT)} cites docs/{name} ({title})")
    assert not missing, "\n".join(missing)


@pytest.mark.parametrize("source", [ROOT / "README.md", *sorted(DOCS.glob("*.md"))], ids=str)
def test_every_link_to_docs_resolves(source: Path):
    base = ROOT if source.name == "README.md" and source.parent == ROOT else source.parent
    links = re.findall(r"\]\(([\w./-]+\.md)(#[\w-]*)?\)", source.read_text())
    if source.parent == ROOT:
        links = [(target, anchor) for target, anchor in links if target.startswith("docs/")]
        assert links, "the README links no page under docs/"
    for target, anchor in links:
        path = (base / target).resolve()
        assert path.is_file(), f"{source.name} links {target}, which does not exist"
        if anchor:
            assert anchor[1:] in _anchors(path), f"{source.name} links {target}{anchor}"


def test_the_readme_links_only_its_own_sections():
    text = (ROOT / "README.md").read_text()
    anchors = _anchors(ROOT / "README.md")
    for anchor in re.findall(r"\]\(#([\w-]+)\)", text):
        assert anchor in anchors, f"README links #{anchor}, which is no heading of it"


def test_every_module_and_folder_the_docs_name_exists():
    named = re.compile(r"`((?:[\w-]+/)*[\w-]+\.py|(?:[\w-]+/)+)`")
    for source in (ROOT / "README.md", ARCHITECTURE):
        for rel in named.findall(source.read_text()):
            candidates = [ROOT / top / rel for top in ("", "quota_sentinel", "bench", "tests")]
            assert any(c.exists() for c in candidates), f"{source.name} names {rel}"


def _key_templates() -> dict[str, str]:
    """Each builder of store/keys.py called with `{parameter}` placeholders."""
    keys = Keys("qs:")
    templates = {}
    for name, method in inspect.getmembers(keys, inspect.ismethod):
        if name.startswith("_") or name == "pattern":
            continue
        params = inspect.signature(method).parameters
        templates[name] = method(*(f"{{{p}}}" for p in params))
    return templates


def test_the_key_table_is_the_one_store_keys_builds():
    rows = re.findall(r"^\| `(\w+)` \| `([^`]+)` \|", _section(ARCHITECTURE.read_text(), "5"), re.M)
    assert dict(rows) == _key_templates()


def test_the_documented_key_constants_have_their_values():
    section = _section(ARCHITECTURE.read_text(), "5")
    constants = {
        name: value
        for name, value in vars(keys_module).items()
        if name.isupper() and isinstance(value, int)
    }
    assert constants
    for name, value in constants.items():
        assert f"`{name}` = {value}" in section, f"docs/architecture.md §5 should state {name}"
