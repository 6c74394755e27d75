"""The dependency rules of docs/architecture.md §3, checked by walking every module's imports."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
WEB_ONLY = ("flask", "flask_smorest", "marshmallow", "werkzeug", "webargs")


def _modules(package: str) -> list[Path]:
    return sorted((ROOT / package).rglob("*.py"))


def _imports(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            found.add(node.module)
    return found


def _top(names: set[str]) -> set[str]:
    return {name.split(".")[0] for name in names}


@pytest.mark.parametrize("path", _modules("quota_sentinel"), ids=lambda p: str(p.relative_to(ROOT)))
def test_the_library_never_imports_workers(path: Path):
    assert "workers" not in _top(_imports(path))


@pytest.mark.parametrize(
    "path",
    [
        p
        for p in _modules("quota_sentinel")
        if not {"api", "dashboard", "web", "app.py"} & set(p.relative_to(ROOT).parts)
    ]
    + _modules("workers"),
    ids=lambda p: str(p.relative_to(ROOT)),
)
def test_only_the_web_layer_imports_flask_or_marshmallow(path: Path):
    assert not _top(_imports(path)) & set(WEB_ONLY)


def _imports_of(package: str) -> set[str]:
    return {name for path in _modules(package) for name in _imports(path)}


@pytest.mark.parametrize(
    ("edge", "other"),
    [("api", "dashboard"), ("dashboard", "api"), ("web", "api"), ("web", "dashboard")],
)
def test_the_web_edges_never_import_each_other(edge: str, other: str):
    # api/ and dashboard/ share only web/ (access rules, schemas); app.py sits above both.
    names = _imports_of(f"quota_sentinel/{edge}")
    assert not {n for n in names if n.startswith((f"quota_sentinel.{other}", "quota_sentinel.app"))}


def test_the_app_factory_is_above_both_edges():
    names = _imports(ROOT / "quota_sentinel" / "app.py")
    assert {"quota_sentinel.api", "quota_sentinel.dashboard.views"} <= names


@pytest.mark.parametrize(
    "path", _modules("quota_sentinel/providers"), ids=lambda p: str(p.relative_to(ROOT))
)
def test_providers_know_nothing_of_store_services_or_redis(path: Path):
    names = _imports(path)
    assert not {
        n for n in names if n.startswith(("quota_sentinel.store", "quota_sentinel.services"))
    }
    assert "redis" not in _top(names)


@pytest.mark.parametrize(
    "package", ["quota_sentinel/api", "quota_sentinel/dashboard", "quota_sentinel/web", "workers"]
)
def test_views_and_jobs_never_name_a_redis_key(package: str):
    # Keys are built in store/keys.py only; a literal prefix elsewhere is a second builder.
    for path in _modules(package):
        text = path.read_text()
        for fragment in ('"qs:', "'qs:", 'f"{prefix}', "inst:{", "acct:{"):
            assert fragment not in text, f"{path.relative_to(ROOT)} builds a key ({fragment})"
