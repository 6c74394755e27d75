"""gunicorn's target: `gunicorn wsgi:app`."""

from quota_sentinel.api import create_app

app = create_app()
