"""Routes of the activities area (see crm_core/routes/__init__.py)."""

pages = []
api = []
