"""Routes of the search area (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import search as api_views
from ..views import search as page_views

pages = [
    path("search/", page_views.search_page, name="search"),
]

api = [
    path("search/", api_views.SearchApi.as_view(), name="api-search"),
    path("search/typeahead/", api_views.TypeaheadApi.as_view(), name="api-search-typeahead"),
]
