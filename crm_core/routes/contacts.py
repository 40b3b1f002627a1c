"""Routes of the contacts area (see crm_core/routes/__init__.py)."""

pages = []
api = []
