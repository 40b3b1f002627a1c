"""The product's settings with the Django-view reference of benchmark 3 as the tenant
URL configuration (bench/crm_list_view.py)."""

from crm_platform.settings import *  # noqa: F403

ROOT_URLCONF = "bench.crm_list_view"
