"""Routes of workflow rules: `pages` (under the company's Settings) and `api`."""

from django.urls import path

from . import api, views

pages = [
    path("settings/workflows/", views.rule_list, name="workflow_rules"),
    path("settings/workflows/new/", views.rule_create, name="workflow_rule_create"),
    path("settings/workflows/<int:pk>/", views.rule_edit, name="workflow_rule_edit"),
    path("settings/workflows/<int:pk>/runs/", views.rule_runs, name="workflow_rule_runs"),
    path("settings/workflows/<int:pk>/dry-run/", views.rule_dry_run, name="workflow_dry_run"),
    path("settings/workflows/<int:pk>/delete/", views.rule_delete, name="workflow_rule_delete"),
    # ?record_type=deal&record_id=5: "why did this happen?" for one record.
    path("automation/runs/", views.record_runs, name="workflow_record_runs"),
]

api = [
    path("workflow-rules/", api.RuleListApi.as_view(), name="api-workflow-rules"),
    path("workflow-rules/<int:pk>/", api.RuleDetailApi.as_view(), name="api-workflow-rule"),
    path(
        "workflow-rules/<int:pk>/dry-run/",
        api.RuleDryRunApi.as_view(),
        name="api-workflow-rule-dry-run",
    ),
    path("workflow-runs/", api.RunListApi.as_view(), name="api-workflow-runs"),
    path("workflow-runs/<int:pk>/", api.RunDetailApi.as_view(), name="api-workflow-run"),
]
