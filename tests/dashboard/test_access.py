"""The dashboard's access rules and page, through the Flask test client (the browser test drives
the same page in Chromium)."""

from __future__ import annotations

import re

import pytest

from quota_sentinel.dashboard.views import COOKIE, SIGN_IN_RATE_PER_MIN, session_value
from tests.api.helpers import assert_envelope
from tests.dashboard.scenario import ADMIN_TOKEN, HOSTILE_PROJECT, build_team
from tests.factories import register

OUTSIDER = {"REMOTE_ADDR": "10.0.0.5"}


def _set_cookie(response) -> str:
    (header,) = response.headers.getlist("Set-Cookie")
    return header


def _sign_in(client, token: str = ADMIN_TOKEN, path: str = "/dashboard/sign-in", **kwargs):
    return client.post(path, data={"token": token}, **kwargs)


# --- with an admin token configured ---------------------------------------------------------


def test_page_asks_for_the_token_and_shows_nothing_else(admin, client):
    register(client, project_name="secret-project")

    response = client.get("/")

    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert 'name="token"' in html and 'type="password"' in html
    assert "secret-project" not in html and "initial-data" not in html
    assert_envelope(client.get("/dashboard/data"), 401, "unauthorized")


def test_wrong_token_is_refused_without_a_cookie(admin, client):
    response = _sign_in(client, "not-the-token")

    assert response.status_code == 401
    assert "not this server&#39;s admin token" in response.get_data(as_text=True)
    assert "Set-Cookie" not in response.headers


def test_right_token_sets_an_httponly_strict_cookie_scoped_to_the_site(admin, client):
    response = _sign_in(client)

    assert response.status_code == 303 and response.headers["Location"] == "/"
    cookie = _set_cookie(response)
    attributes = {part.strip().split("=")[0].lower() for part in cookie.split(";")}
    assert {"httponly", "path", "max-age"} <= attributes
    assert "samesite=strict" in cookie.lower() and "path=/;" in cookie.lower() + ";"
    assert "secure" not in attributes and "domain" not in attributes
    assert ADMIN_TOKEN not in cookie
    assert cookie.startswith(f"{COOKIE}={session_value(ADMIN_TOKEN)};")


def test_signing_in_keeps_the_pages_refresh_period(admin, client):
    form = client.get("/?refresh=2").get_data(as_text=True)

    response = _sign_in(client, path="/dashboard/sign-in?refresh=2")

    assert 'action="/dashboard/sign-in?refresh=2"' in form
    assert response.headers["Location"] == "/?refresh=2"


def test_cookie_is_secure_when_the_request_is_https(admin, client):
    direct = _sign_in(client, base_url="https://quota.example")
    proxied = _sign_in(client, headers={"X-Forwarded-Proto": "https"})

    for response in (direct, proxied):
        assert "secure" in _set_cookie(response).lower().split("; ")


def test_signed_in_browser_gets_the_page_and_its_data(admin, client):
    register(client, project_name="web-app")
    _sign_in(client)

    page = client.get("/")
    data = client.get("/dashboard/data")

    assert page.status_code == 200 and 'id="app"' in page.get_data(as_text=True)
    assert data.status_code == 200
    assert data.get_json() == client.get("/v1/team", headers=_bearer()).get_json()
    assert "Sign out" in page.get_data(as_text=True)
    assert "access-note" not in page.get_data(as_text=True)


def test_a_cookie_of_an_old_token_asks_again(admin, client):
    client.set_cookie(COOKIE, session_value("the-previous-token"))

    response = client.get("/")

    assert 'name="token"' in response.get_data(as_text=True)
    assert "no longer matches" in response.get_data(as_text=True)
    assert_envelope(client.get("/dashboard/data"), 401)


def test_sign_out_forgets_the_cookie(admin, client):
    _sign_in(client)

    response = client.post("/dashboard/sign-out")

    assert response.status_code == 303
    assert client.get_cookie(COOKIE) is None
    assert 'name="token"' in client.get("/").get_data(as_text=True)


def test_sign_in_attempts_are_rate_limited(admin, client):
    for _ in range(SIGN_IN_RATE_PER_MIN):
        assert _sign_in(client, "guess").status_code == 401

    response = _sign_in(client, ADMIN_TOKEN)

    assert response.status_code == 429 and int(response.headers["Retry-After"]) > 0


# --- without an admin token -----------------------------------------------------------------


def test_loopback_gets_the_page_and_is_told_why(client):
    response = client.get("/")

    html = response.get_data(as_text=True)
    assert response.status_code == 200 and 'id="app"' in html
    assert 'id="access-note"' in html and "only on this machine (loopback)" in html
    assert "Sign out" not in html
    assert client.get("/dashboard/data").status_code == 200


def test_other_addresses_are_refused_with_a_sentence(client):
    page = client.get("/", environ_base=OUTSIDER)

    assert page.status_code == 403
    assert "QUOTA_SENTINEL_ADMIN_TOKEN" in page.get_data(as_text=True)
    assert 'id="app"' not in page.get_data(as_text=True)
    assert_envelope(client.get("/dashboard/data", environ_base=OUTSIDER), 403, "forbidden")
    forwarded = client.get("/", headers={"X-Forwarded-For": "198.51.100.7"})
    assert forwarded.status_code == 403


def test_signing_in_without_a_configured_token_just_goes_back(client):
    response = _sign_in(client, "anything")

    assert response.status_code == 303 and "Set-Cookie" not in response.headers


# --- the page itself ------------------------------------------------------------------------


def test_page_loads_nothing_from_elsewhere(client):
    response = client.get("/")
    html = response.get_data(as_text=True)

    for url in re.findall(r"""(?:src|href|action)\s*=\s*["']([^"']+)""", html, re.IGNORECASE):
        assert not re.match(r"^(?:[a-z][a-z0-9+.\-]*:)?//", url, re.IGNORECASE), url
    assert "default-src 'none'" in response.headers["Content-Security-Policy"]
    assert response.headers["Cache-Control"] == "no-store"
    for asset in ("dashboard.js", "dashboard.css", "favicon.svg"):
        static = client.get(f"/dashboard/static/{asset}")
        assert static.status_code == 200, asset
        assert not re.search(r"https?://(?!www\.w3\.org/2000/svg)", static.get_data(as_text=True))
        static.close()


def test_page_embeds_project_names_as_data_not_markup(zai, deepseek, client, clock, drain):
    build_team(client, clock, drain, zai, deepseek)

    html = client.get("/").get_data(as_text=True)

    assert HOSTILE_PROJECT not in html
    assert r"\u003cb\u003emobile\u003c/b\u003e" in html


@pytest.mark.parametrize("refresh", ["1", "3600"])
def test_refresh_period_can_be_set_in_the_address(client, refresh):
    html = client.get(f"/?refresh={refresh}").get_data(as_text=True)

    assert f'data-refresh="{refresh}"' in html


def _bearer() -> dict[str, str]:
    return {"Authorization": f"Bearer {ADMIN_TOKEN}"}
