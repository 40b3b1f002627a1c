"""Tenant isolation harness: company A's credentials, ids and cache never reach company B.

Every route of the tenant URLconf is discovered here, so a new endpoint joins these
tests by existing. Routes that take an id are probed with ids that exist only in A.
"""

import re

import pytest
from django.core.cache import cache
from django.db import connection
from django.urls import URLPattern, URLResolver, get_resolver
from django_tenants.utils import schema_context, tenant_context

from accounts.models import ApiToken, Invitation, Team, User
from crm_core import models as crm
from customization.models import ApprovalProcess, FieldDefinition
from customization.workflows.models import WorkflowRule, WorkflowRun
from tests.conftest import client_for, signed_in
from webhooks import models as webhook_models

pytestmark = pytest.mark.django_db

# Routes open without signing in (forms that show a page, not data).
PUBLIC_ROUTES = {
    "",
    "accounts/login/",
    "accounts/handover/",
    "accounts/invitation/<str:token>/",
    "accounts/password/reset/",
    "accounts/password/reset/sent/",
    "accounts/password/reset/<uidb64>/<token>/",
    "accounts/password/reset/complete/",
    "accounts/logout/",
    "i18n/language/",
    "api/schema/",
    "api/docs/",
}


def _routes(patterns=None, prefix=""):
    for pattern in (
        patterns if patterns is not None else get_resolver("crm_platform.urls_tenant").url_patterns
    ):
        if isinstance(pattern, URLResolver):
            yield from _routes(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern)


TENANT_ROUTES = sorted(set(_routes()))
API_ROUTES = [r for r in TENANT_ROUTES if r.startswith("api/v1/")]


def _fill(route: str, ids: dict) -> str:
    """A concrete path; an <int:pk> gets the id of a row that exists in A only."""

    def value(match):
        if match.group(1) == "int":
            return str(ids[_collection(route)])
        return "x"

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def _collection(route: str) -> str:
    """The segment before the id: api/v1/<collection>/<pk>/ or settings/<collection>/<pk>/."""
    parts = route.split("/")
    return parts[parts.index("<int:pk>") - 1]


def test_harness_sees_every_api_route():
    assert {"api/v1/me/", "api/v1/users/", "api/v1/teams/", "api/v1/tokens/"} <= set(API_ROUTES)


@pytest.mark.parametrize("route", API_ROUTES)
@pytest.mark.parametrize("method", ["get", "post", "patch", "put", "delete"])
def test_a_token_is_refused_on_b_host(world, route, method):
    path = _fill(route, _a_ids(world))
    response = getattr(client_for(world.b, world.a.owner_token), method)(
        path, {}, content_type="application/json"
    )
    assert response.status_code == 401, (path, method, response.content[:200])


@pytest.mark.parametrize("route", [r for r in TENANT_ROUTES if r not in PUBLIC_ROUTES])
def test_a_session_cookie_is_anonymous_on_b_host(world, route):
    a_client = signed_in(world.a, world.a.owner_email)
    path = _fill(route, _a_ids(world))
    assert a_client.get("/").status_code == 200  # the session works on A
    b_client = client_for(world.b)
    b_client.cookies = a_client.cookies  # same browser cookie jar sent to B's host
    response = b_client.get(path)
    assert response.status_code in (302, 401, 403), (path, response.status_code)
    if response.status_code == 302:
        assert "/accounts/login/" in response["Location"]


@pytest.mark.parametrize("header", ["HTTP_HOST", "HTTP_X_FORWARDED_HOST"])
def test_forged_host_headers_cannot_switch_company(world, header):
    # A's token sent to B's host with A's host in a forwarding header: still B's schema.
    client = client_for(world.b, world.a.owner_token)
    if header == "HTTP_X_FORWARDED_HOST":
        response = client.get("/api/v1/me/", HTTP_X_FORWARDED_HOST=world.a.host)
        assert response.status_code == 401
    else:
        # A Host outside ALLOWED_HOSTS is rejected (django-tenants answers 404), never routed.
        response = client.get("/api/v1/me/", HTTP_HOST="evil.example.com")
        assert response.status_code in (400, 404)
        assert b"owner@" not in response.content


def test_unknown_company_host_is_404(world):
    assert client_for("nobody-here.localhost").get("/accounts/login/").status_code == 404


@pytest.mark.parametrize("route", [r for r in API_ROUTES if "<int:pk>" in r])
@pytest.mark.parametrize("method", ["get", "patch", "put", "delete"])
def test_a_ids_are_not_found_on_b(world, route, method):
    path = _fill(route, _a_ids(world))
    response = getattr(client_for(world.b, world.b.owner_token), method)(
        path, {"name": "x", "role": "read_only"}, content_type="application/json"
    )
    assert response.status_code in (404, 405), (path, method, response.status_code)


def test_b_lists_contain_nothing_of_a(world):
    client = client_for(world.b, world.b.owner_token)
    emails = {u["email"] for u in client.get("/api/v1/users/").json()}
    assert world.a.owner_email not in emails and world.a.rep_email not in emails
    teams = {t["name"] for t in client.get("/api/v1/teams/").json()}
    assert not any(name.startswith("Alpha") for name in teams)


def test_cache_entries_are_per_company(world):
    with tenant_context(world.a.tenant):
        cache.set("isolation-probe", "secret of A", 30)
        assert cache.get("isolation-probe") == "secret of A"
    with tenant_context(world.b.tenant):
        assert cache.get("isolation-probe") is None
        cache.set("isolation-probe", "B's", 30)
    with tenant_context(world.a.tenant):
        assert cache.get("isolation-probe") == "secret of A"
    with schema_context("public"):
        assert cache.get("isolation-probe") is None


ID_MODELS = {
    "users": User,
    "teams": Team,
    "tokens": ApiToken,
    "invitations": Invitation,
    "customers": crm.Customer,
    "contacts": crm.Contact,
    "leads": crm.Lead,
    "deals": crm.Deal,
    "pipelines": crm.Pipeline,
    "stages": crm.Stage,
    "activities": crm.Activity,
    "notifications": crm.Notification,
    "imports": crm.ImportJob,
    "assignment-rules": crm.AssignmentRule,
    "regions": crm.Region,
    "custom-fields": FieldDefinition,  # API
    "fields": FieldDefinition,  # settings pages
    "workflow-rules": WorkflowRule,
    "workflows": WorkflowRule,  # settings/workflows/<pk>/ pages
    "workflow-runs": WorkflowRun,
    "webhooks": webhook_models.Endpoint,
    "webhook-endpoints": webhook_models.Endpoint,
    "deliveries": webhook_models.Delivery,
    "webhook-deliveries": webhook_models.Delivery,
    "products": crm.Product,
    "price-lists": crm.PriceList,
    "quotes": crm.Quote,
    "approvals": crm.ApprovalRequest,
    "approval-processes": ApprovalProcess,  # API and settings pages
    "contracts": crm.Contract,
    "orders": crm.Order,
    "invoices": crm.Invoice,
}


def _a_ids(world) -> dict:
    """For each collection, the highest id in A, checked to be absent from B."""
    ids = {}
    for collection, model in ID_MODELS.items():
        with tenant_context(world.a.tenant):
            ids[collection] = model.objects.order_by("-pk").values_list("pk", flat=True)[0]
        with tenant_context(world.b.tenant):
            assert not model.objects.filter(pk=ids[collection]).exists(), collection
    connection.set_schema_to_public()
    return ids


def test_every_id_route_has_a_probe():
    for route in TENANT_ROUTES:
        if "<int:pk>" in route:
            assert _collection(route) in ID_MODELS, f"add {route} to ID_MODELS"
