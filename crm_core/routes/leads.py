"""Routes of the leads area (see crm_core/routes/__init__.py)."""

pages = []
api = []
