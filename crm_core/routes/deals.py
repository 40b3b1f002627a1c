"""Routes of the deals area (see crm_core/routes/__init__.py)."""

pages = []
api = []
