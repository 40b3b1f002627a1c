"""Routes of the duplicates area (see crm_core/routes/__init__.py)."""

pages = []
api = []
