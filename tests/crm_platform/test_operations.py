"""Operations: health probes, deploy checks, the OpenAPI document, logs, module names."""

import io
import json
import logging
import os
import pkgutil
import subprocess
import sys
from pathlib import Path

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from tenants.models import Domain, Tenant
from tenants.resolution import host_cache
from tests.conftest import ROOT, broker_unreachable, client_for, public_client

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("host", ["localhost", "alpha.localhost", "10.0.0.7", "unknown.localhost"])
def test_healthz_answers_on_any_host_without_touching_the_database(world, host):
    with CaptureQueriesContext(connection) as queries:
        response = (
            client_for(host).get("/healthz", HTTP_HOST=host)
            if host != "10.0.0.7"
            else client_for("127.0.0.1").get("/healthz")
        )
    assert response.status_code == 200 and response.json() == {"status": "ok"}
    assert len(queries) == 0


def test_readyz_reports_database_and_broker(world):
    ready = public_client().get("/readyz")
    assert ready.status_code == 200
    assert ready.json()["checks"] == {"database": True, "broker": True}
    with broker_unreachable():
        down = public_client().get("/readyz")
    assert down.status_code == 503 and down.json()["checks"]["broker"] is False


def test_request_id_is_returned_and_kept_when_well_formed(world):
    response = public_client().get("/healthz", HTTP_X_REQUEST_ID="abc-123")
    assert response["X-Request-ID"] == "abc-123"
    forged = public_client().get("/healthz", HTTP_X_REQUEST_ID="bad id\nwith newline")
    assert forged["X-Request-ID"] != "bad id\nwith newline" and len(forged["X-Request-ID"]) == 32


def test_logs_are_json_with_tenant_and_request_id(world):
    stream = io.StringIO()
    handler = logging.getLogger().handlers[0]
    probe = logging.StreamHandler(stream)
    probe.setFormatter(handler.formatter)
    for log_filter in handler.filters:
        probe.addFilter(log_filter)
    logger = logging.getLogger("django.request")
    logger.addHandler(probe)
    try:
        client_for(world.a, world.a.owner_token).get(
            "/api/v1/no-such-endpoint/", HTTP_X_REQUEST_ID="req-42"
        )
    finally:
        logger.removeHandler(probe)
    record = json.loads(stream.getvalue().splitlines()[-1])
    assert record["tenant"] == world.a.tenant.schema_name
    assert record["request_id"] == "req-42"
    assert record["level"] == "WARNING"


def test_production_settings_pass_check_deploy():
    env = {k: v for k, v in os.environ.items() if k not in ("CRM_TESTING", "DJANGO_DEBUG")}
    env.update(
        DJANGO_SECRET_KEY="x" * 30 + "-production-secret-" + "y" * 30,
        DJANGO_ALLOWED_HOSTS=".crm.example.com",
        CRM_BASE_DOMAIN="crm.example.com",
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_production_refuses_to_start_without_a_secret_key():
    env = {
        k: v
        for k, v in os.environ.items()
        if k not in ("CRM_TESTING", "DJANGO_DEBUG", "DJANGO_SECRET_KEY")
    }
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode != 0 and "DJANGO_SECRET_KEY" in result.stderr


def test_openapi_documents_the_company_api_with_bearer_tokens(world):
    schema = client_for(world.a).get("/api/schema/?format=json").json()
    assert {
        "/api/v1/me/",
        "/api/v1/users/",
        "/api/v1/teams/",
        "/api/v1/tokens/",
        "/api/v1/invitations/",
    } <= set(schema["paths"])
    assert schema["components"]["securitySchemes"]["bearerAuth"]["scheme"] == "bearer"
    docs = client_for(world.a).get("/api/docs/")
    assert docs.status_code == 200 and b"cdn.jsdelivr" not in docs.content


def test_openapi_of_the_public_host_documents_signup(world):
    schema = public_client().get("/api/schema/?format=json").json()
    assert "/api/v1/signup/" in schema["paths"]
    assert "/api/v1/me/" not in schema["paths"]


def test_no_top_level_module_shadows_the_standard_library():
    ours = {m.name for m in pkgutil.iter_modules([str(ROOT)])}
    ours |= {p.name for p in Path(ROOT).iterdir() if (p / "__init__.py").exists()}
    clashes = ours & set(sys.stdlib_module_names)
    assert not clashes, f"rename {clashes}: they shadow the standard library"
    assert "crm_platform" in ours  # the card's platform/, renamed for this reason


def test_warm_tenant_resolution_makes_no_queries(world):
    client = client_for(world.a)
    client.get("/healthz")
    client.get("/accounts/login/")  # warms the host cache
    with CaptureQueriesContext(connection) as queries:
        client.get("/accounts/login/")
    assert not [q for q in queries.captured_queries if "tenants_domain" in q["sql"]]
    assert len(queries) == 0, [q["sql"] for q in queries.captured_queries]


def test_domain_change_invalidates_the_host_cache(world):
    client_for(world.a).get("/accounts/login/")
    assert client_for("alpha-new.localhost").get("/accounts/login/").status_code == 404
    Domain.objects.create(domain="alpha-new.localhost", tenant=world.a.tenant)
    assert client_for("alpha-new.localhost").get("/accounts/login/").status_code == 200
    host_cache.clear_local()


@pytest.mark.parametrize(
    ("status", "read", "write"),
    [
        ("trial", 200, 201),
        ("active", 200, 201),
        ("past_due", 200, 201),
        ("read_only", 200, 403),
        ("suspended", 403, 403),
        ("cancelled", 403, 403),
    ],
)
def test_lifecycle_state_decides_what_a_company_can_do(world, status, read, write):
    Tenant.objects.filter(pk=world.b.tenant.pk).update(status=status)
    host_cache.clear_local()
    client = client_for(world.b, world.b.owner_token)
    assert client.get("/api/v1/me/").status_code == read
    created = client.post(
        "/api/v1/teams/", {"name": f"team while {status}"}, content_type="application/json"
    )
    assert created.status_code == write
    if write == 403:
        assert created.json()["error"]["code"] in ("read_only", "suspended")
    page = client_for(world.b).get("/accounts/login/")
    assert page.status_code == (403 if status in ("suspended", "cancelled") else 200)


def test_translations_are_complete_and_compiled():
    import gettext

    for language in ("zh_Hans", "ja"):
        po = ROOT / "locale" / language / "LC_MESSAGES" / "django.po"
        mo = po.with_suffix(".mo")
        assert mo.exists(), f"run make messages: {mo} is missing"
        catalog = gettext.GNUTranslations(mo.open("rb"))
        untranslated = subprocess.run(
            ["msgattrib", "--untranslated", "--no-obsolete", str(po)],
            capture_output=True,
            text=True,
        )
        if untranslated.returncode == 0:  # gettext tools present
            assert "msgid" not in untranslated.stdout, f"untranslated strings in {po}"
        assert catalog.gettext("Sign in") != "Sign in"
        assert catalog.gettext("Free trial: %(days)s day left.") != "Free trial: %(days)s day left."
