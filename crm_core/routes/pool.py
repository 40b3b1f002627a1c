"""Routes of the pool area (see crm_core/routes/__init__.py)."""

pages = []
api = []
