"""Routes on a company's host: `urlpatterns` (pages) and `api_urlpatterns` (in /api/v1/)."""

from django.urls import path

from . import api, views_company

app_name = "billing_company"

urlpatterns = [  # pages
    path("settings/billing/", views_company.billing_page, name="page"),
    path("settings/billing/card/", views_company.billing_card, name="card"),
    path("settings/billing/plan/", views_company.billing_plan, name="plan"),
    path("settings/billing/cancel/", views_company.billing_cancel, name="cancel"),
]
api_urlpatterns = [
    path("billing/", api.BillingApi.as_view(), name="api-billing"),
    path("billing/plans/", api.PlanListApi.as_view(), name="api-billing-plans"),
    path("billing/plan/", api.BillingPlanApi.as_view(), name="api-billing-plan"),
    path("billing/card/", api.BillingCardApi.as_view(), name="api-billing-card"),
    path("billing/cancel/", api.BillingCancelApi.as_view(), name="api-billing-cancel"),
]
