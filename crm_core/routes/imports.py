"""Routes of the imports area (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import exports as export_api
from ..api import imports as api_views
from ..views import imports as page_views

pages = [
    path("imports/", page_views.import_list, name="imports"),
    path("imports/<int:pk>/", page_views.import_detail, name="import"),
    path("imports/<int:pk>/progress/", page_views.import_progress, name="import_progress"),
    path("imports/<int:pk>/errors.csv", page_views.import_errors_csv, name="import_errors"),
]

api = [
    path("imports/", api_views.ImportListApi.as_view(), name="api-imports"),
    path("imports/<int:pk>/", api_views.ImportDetailApi.as_view(), name="api-import"),
    path(
        "imports/<int:pk>/errors.csv",
        api_views.ImportErrorsCsvApi.as_view(),
        name="api-import-errors",
    ),
    # Exports honour the same filters and visibility as the lists (and search's q).
    *[
        path(
            f"exports/{collection}.{file_format}",
            export_api.ExportApi.as_view(collection=collection, file_format=file_format),
            name=f"api-export-{collection}-{file_format}",
        )
        for collection in export_api.ENTITIES
        for file_format in ("csv", "xlsx")
    ],
]
