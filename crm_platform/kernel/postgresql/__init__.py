"""The database engine: django-tenants' PostgreSQL backend without two round trips that
a warm request does not need (see base.py)."""
