"""What both web edges share: who may see what (access.py) and the wire shapes (schemas/).

`api/` (the /v1 JSON API) and `dashboard/` (the team page) import from here and never from each
other; `quota_sentinel/app.py` builds the app above both.
"""
