"""Routes of the search area (see crm_core/routes/__init__.py)."""

pages = []
api = []
