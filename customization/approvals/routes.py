"""Routes of approval processes: `pages` (under the company's Settings) and `api`."""

from django.urls import path

from . import api, views

pages = [
    path("settings/approval-processes/", views.process_list, name="approval_processes"),
    path("settings/approval-processes/new/", views.process_create, name="approval_process_create"),
    path(
        "settings/approval-processes/install/",
        views.process_install,
        name="approval_process_install",
    ),
    path("settings/approval-processes/<int:pk>/", views.process_edit, name="approval_process_edit"),
    path(
        "settings/approval-processes/<int:pk>/delete/",
        views.process_delete,
        name="approval_process_delete",
    ),
]

api = [
    path("approval-processes/", api.ProcessListApi.as_view(), name="api-approval-processes"),
    path(
        "approval-processes/templates/",
        api.ProcessTemplateApi.as_view(),
        name="api-approval-process-templates",
    ),
    path(
        "approval-processes/<int:pk>/",
        api.ProcessDetailApi.as_view(),
        name="api-approval-process",
    ),
]
