"""/v1/openapi.json and /v1/docs: generated from the schemas, complete, and served offline."""

from __future__ import annotations

import re

import pytest

OPERATIONS = [
    ("post", "/v1/instances"),
    ("delete", "/v1/instances/{instance_id}"),
    ("patch", "/v1/instances/{instance_id}/heartbeat"),
    ("get", "/v1/status"),
    ("get", "/v1/status/{instance_id}"),
    ("get", "/v1/providers"),
    ("get", "/v1/providers/{name}"),
    ("post", "/v1/poll"),
    ("get", "/v1/health"),
]


@pytest.fixture
def spec(client):
    response = client.get("/v1/openapi.json")
    assert response.status_code == 200
    return response.get_json()


@pytest.mark.parametrize(("method", "path"), OPERATIONS)
def test_spec_lists_route_with_a_summary(spec, method, path):
    operation = spec["paths"][path][method]

    assert isinstance(operation.get("summary"), str) and len(operation["summary"]) > 10
    assert operation["responses"]


def test_spec_gives_every_operation_a_summary_and_error_response(spec):
    for path, operations in spec["paths"].items():
        for method, operation in operations.items():
            if method != "parameters":
                assert operation.get("summary"), (method, path)
                assert "default" in operation["responses"], (method, path)


def test_spec_describes_request_bodies_from_the_schemas(spec):
    registration = spec["paths"]["/v1/instances"]["post"]["requestBody"]
    ref = registration["content"]["application/json"]["schema"]["$ref"]
    schema = spec["components"]["schemas"][ref.rsplit("/", 1)[-1]]

    assert {"project_name", "framework", "poll_interval", "auth", "hard_caps"} <= set(
        schema["properties"]
    )
    assert "project_name" in schema["required"]


def test_docs_page_names_every_path(client):
    response = client.get("/v1/docs")

    assert response.status_code == 200
    assert response.mimetype == "text/html"
    html = response.get_data(as_text=True)
    for method, path in OPERATIONS:
        assert re.search(rf">{method.upper()}<.*?<code>{re.escape(path)}</code>", html), path


def test_docs_page_loads_nothing_from_elsewhere(client):
    html = client.get("/v1/docs").get_data(as_text=True)

    assert "<script" not in html.lower()
    for url in re.findall(r"""(?:src|href)\s*=\s*["']([^"']+)""", html, re.IGNORECASE):
        assert not re.match(r"^(?:[a-z][a-z0-9+.\-]*:)?//", url, re.IGNORECASE), url
    assert not re.search(r"@import|url\(\s*['\"]?(?:https?:)?//", html)
