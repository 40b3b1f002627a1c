"""Routes of the imports area (see crm_core/routes/__init__.py)."""

pages = []
api = []
