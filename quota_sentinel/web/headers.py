"""Security headers on every response of the app (API, docs, team page), set by app.py.

A view or blueprint that sets its own value (the team page's fuller Content-Security-Policy)
keeps it: these are defaults. HSTS goes only on https requests; behind a proxy that is what the
proxy says only when QUOTA_SENTINEL_TRUST_PROXY trusts it (ProxyFix), never a client's claim.
"""

from __future__ import annotations

from flask import Response, request

SECURITY_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Content-Security-Policy": "frame-ancestors 'none'",
    "Referrer-Policy": "no-referrer",
}
HSTS = "max-age=31536000; includeSubDomains"


def add_security_headers(response: Response) -> Response:
    for name, value in SECURITY_HEADERS.items():
        response.headers.setdefault(name, value)
    if request.is_secure:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response
