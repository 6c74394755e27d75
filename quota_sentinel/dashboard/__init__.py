"""The team view page: a Flask blueprint at `/` (views.py) with its templates and static files."""
