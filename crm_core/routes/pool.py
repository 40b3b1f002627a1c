"""Routes of the pool area (see crm_core/routes/__init__.py): the public pool, claim and
release of leads and customers, pool settings, assignment rules and regions."""

from django.urls import path

from ..api import pool as api_views
from ..views import pool as page_views

pages = [
    path("pool/", page_views.pool, name="pool"),
    path("pool/leads/<int:pk>/claim/", page_views.pool_lead_claim, name="pool_lead_claim"),
    path("pool/leads/<int:pk>/release/", page_views.pool_lead_release, name="pool_lead_release"),
    path(
        "pool/customers/<int:pk>/claim/",
        page_views.pool_customer_claim,
        name="pool_customer_claim",
    ),
    path(
        "pool/customers/<int:pk>/release/",
        page_views.pool_customer_release,
        name="pool_customer_release",
    ),
    path("pool/settings/", page_views.pool_settings, name="pool_settings"),
    path(
        "pool/assignment-rules/new/",
        page_views.assignment_rule_create,
        name="assignment_rule_create",
    ),
    path(
        "pool/assignment-rules/<int:pk>/",
        page_views.assignment_rule_edit,
        name="assignment_rule_edit",
    ),
    path(
        "pool/assignment-rules/<int:pk>/delete/",
        page_views.assignment_rule_delete,
        name="assignment_rule_delete",
    ),
    path("pool/regions/new/", page_views.region_create, name="region_create"),
    path("pool/regions/<int:pk>/delete/", page_views.region_delete, name="region_delete"),
    path("pool/regions/<int:pk>/rename/", page_views.region_rename, name="region_rename"),
]

api = [
    path("pool/leads/", api_views.PoolLeadListApi.as_view(), name="api-pool-leads"),
    path("pool/customers/", api_views.PoolCustomerListApi.as_view(), name="api-pool-customers"),
    path("pool/settings/", api_views.PoolSettingsApi.as_view(), name="api-pool-settings"),
    path("leads/<int:pk>/claim/", api_views.LeadClaimApi.as_view(), name="api-lead-claim"),
    path("leads/<int:pk>/release/", api_views.LeadReleaseApi.as_view(), name="api-lead-release"),
    path(
        "customers/<int:pk>/claim/",
        api_views.CustomerClaimApi.as_view(),
        name="api-customer-claim",
    ),
    path(
        "customers/<int:pk>/release/",
        api_views.CustomerReleaseApi.as_view(),
        name="api-customer-release",
    ),
    path(
        "assignment-rules/",
        api_views.AssignmentRuleListApi.as_view(),
        name="api-assignment-rules",
    ),
    path(
        "assignment-rules/<int:pk>/",
        api_views.AssignmentRuleDetailApi.as_view(),
        name="api-assignment-rule",
    ),
    path("regions/", api_views.RegionListApi.as_view(), name="api-regions"),
    path("regions/<int:pk>/", api_views.RegionDetailApi.as_view(), name="api-region"),
]
