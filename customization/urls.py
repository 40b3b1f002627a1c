"""Routes on a company's host: `urlpatterns` (pages) and `api_urlpatterns` (in /api/v1/)."""

from django.urls import path

from . import api, views
from .approvals import routes as approval_routes
from .workflows import routes as workflow_routes

app_name = "customization"

urlpatterns = [  # pages, in the Settings area
    path("settings/fields/", views.field_list, name="fields"),
    path("settings/fields/<int:pk>/", views.field_edit, name="field_edit"),
    path("settings/fields/security/", views.field_security, name="field_security"),
    path("settings/fields/layout/", views.layout_edit, name="layout"),
    path("settings/fields/changes/", views.change_log, name="changes"),
    *workflow_routes.pages,
    *approval_routes.pages,
]
api_urlpatterns = [
    path("custom-fields/", api.DefinitionListApi.as_view(), name="api-custom-fields"),
    path("custom-fields/<int:pk>/", api.DefinitionDetailApi.as_view(), name="api-custom-field"),
    path(
        "custom-fields/<int:pk>/archive/",
        api.DefinitionArchiveApi.as_view(),
        name="api-custom-field-archive",
    ),
    path(
        "custom-fields/<int:pk>/restore/",
        api.DefinitionRestoreApi.as_view(),
        name="api-custom-field-restore",
    ),
    path(
        "custom-fields/<int:pk>/change-type/",
        api.DefinitionTypeChangeApi.as_view(),
        name="api-custom-field-change-type",
    ),
    path(
        "custom-field-changes/",
        api.DefinitionChangeListApi.as_view(),
        name="api-custom-field-changes",
    ),
    path("field-security/", api.FieldSecurityApi.as_view(), name="api-field-security"),
    path("layouts/<str:entity>/", api.LayoutApi.as_view(), name="api-layout"),
    *workflow_routes.api,
    *approval_routes.api,
]
