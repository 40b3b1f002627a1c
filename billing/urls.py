"""Billing routes on the public host: the Stripe webhook and the operator console."""

from django.urls import path

from . import console, views_webhook

app_name = "billing"

urlpatterns = [
    path("billing/stripe/webhook/", views_webhook.stripe_webhook, name="stripe_webhook"),
    path("console/", console.tenant_list, name="console"),
    path("console/tenants/<int:pk>/", console.tenant_detail, name="console_tenant"),
    path(
        "console/tenants/<int:pk>/<slug:action>/",
        console.tenant_action,
        name="console_tenant_action",
    ),
    path("console/metrics/", console.metrics, name="console_metrics"),
    path("console/audit/", console.audit_log, name="console_audit"),
    path("console/plans/", console.plan_list, name="console_plans"),
    path("console/plans/<int:pk>/", console.plan_edit, name="console_plan"),
]
