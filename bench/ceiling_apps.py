"""The do-nothing apps bench/load.py --ceiling serves under our gunicorn command line.

`flask_app` answers GET /v1/health with a constant JSON object through Flask; `wsgi_app` does
the same as a bare WSGI callable. What they reach is the most any endpoint of ours can reach on
the machine, with that server and that framework, doing no work at all.
"""

from __future__ import annotations

from flask import Flask

BODY = b'{"status": "ok"}'


def wsgi_app(environ, start_response):
    start_response(
        "200 OK", [("Content-Type", "application/json"), ("Content-Length", str(len(BODY)))]
    )
    return [BODY]


flask_app = Flask(__name__)


@flask_app.get("/v1/health")
def health():
    return {"status": "ok"}
