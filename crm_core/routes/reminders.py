"""Routes of the reminders area (see crm_core/routes/__init__.py)."""

pages = []
api = []
