"""gunicorn's target: `gunicorn wsgi:app`."""

from quota_sentinel.app import create_app

app = create_app()
