"""Routes of the duplicates area (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import duplicates as api_views
from ..views import duplicates as page_views

pages = [
    path("duplicates/", page_views.duplicates_page, name="duplicates"),
]

api = [
    path("duplicates/", api_views.DuplicateListApi.as_view(), name="api-duplicates"),
    path("duplicates/merge/", api_views.MergeApi.as_view(), name="api-duplicates-merge"),
]
