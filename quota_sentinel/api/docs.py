"""/docs: the OpenAPI document as a readable page, rendered on the server (no CDN, offline)."""

from __future__ import annotations

from flask import Blueprint, render_template_string

from quota_sentinel.api.smorest import Api

_PAGE = """<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>{{ spec.info.title }} API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem}
code{background:#f3f3f3;padding:.1rem .3rem;border-radius:3px}
.op{border-top:1px solid #ddd;padding:.6rem 0}.m{font-weight:700;display:inline-block;width:4.5rem}
.r{color:#555;font-size:90%}
</style></head><body>
<h1>{{ spec.info.title }} <small>{{ spec.info.version }}</small></h1>
<p>Machine-readable: <a href="openapi.json">openapi.json</a>. Errors are always
<code>{"error", "message", "details"?}</code>. Instance routes need <code>X-API-Key</code>.</p>
{% for path, ops in spec.paths.items() %}
{% for method, op in ops.items() if method != "parameters" %}
<div class="op"><span class="m">{{ method|upper }}</span><code>{{ path }}</code>
 — {{ op.summary or "" }}
<div class="r">responses: {{ op.responses.keys()|join(", ") }}
{% if op.requestBody %}; body: {{ op.requestBody.content["application/json"].schema["$ref"]
   .split("/")[-1] }}{% endif %}</div></div>
{% endfor %}{% endfor %}
</body></html>"""


def blueprint(api: Api) -> Blueprint:
    """The /docs page of `api`'s OpenAPI document (one blueprint per app: it holds that Api)."""
    blp = Blueprint("docs", __name__)

    @blp.route("/docs")
    def docs():
        """Human-readable API reference."""
        return render_template_string(_PAGE, spec=_Attr(api.spec.to_dict()))

    return blp


class _Attr(dict):
    """Lets the template write spec.info.title instead of spec["info"]["title"]."""

    def __getattr__(self, name):
        value = self.get(name)
        return _Attr(value) if isinstance(value, dict) else value
