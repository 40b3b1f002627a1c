"""Test harness: one test database, two companies (A and B) built once per session.

Tests run in-process with `TenantClient` inside a rolled-back transaction. Tests that
need other processes (a real Celery worker, a real web server for the browser) use the
session fixtures `celery_worker` and `live_web`, which run against the same test database
and the same Redis; their data must be committed (`committed` fixture).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import pytest
from django.conf import settings
from django.db import connection
from django.db import connections as _connections
from django.test import Client
from django_tenants.utils import tenant_context

ROOT = Path(__file__).resolve().parent.parent
PASSWORD = "Test-password-2026"


@dataclass
class Company:
    tenant: object
    owner_email: str
    owner_token: str
    rep_email: str = ""
    rep_token: str = ""
    team_id: int = 0

    @property
    def host(self) -> str:
        return self.tenant.host


@dataclass
class World:
    a: Company
    b: Company


class TenantClient(Client):
    """A test client bound to a host; it puts the connection back on public after each
    request (django-tenants' own TenantClient leaves it on the tenant's schema)."""

    def __init__(self, host: str, **kwargs):
        super().__init__(HTTP_HOST=host, **kwargs)

    def request(self, **request):
        try:
            return super().request(**request)
        finally:
            connection.set_schema_to_public()


def _make_company(subdomain: str, name: str) -> Company:
    from accounts.models import User
    from accounts.roles import Role
    from accounts.services import api_token_create, invitation_create, team_save
    from tenants.services import tenant_signup

    owner_email = f"owner@{subdomain}.example.com"
    result = tenant_signup(
        company_name=name, subdomain=subdomain, email=owner_email, password=PASSWORD
    )
    company = Company(tenant=result.tenant, owner_email=owner_email, owner_token=result.api_token)
    with tenant_context(result.tenant):
        # A (alpha) gets more rows of every kind than B, so A's top ids do not exist in B.
        rows = 3 if subdomain == "alpha" else 1
        for index in range(rows):
            team = team_save(name=f"{name} team {index}", manager=None)
            rep = User.objects.create_user(
                f"rep{index}@{subdomain}.example.com",
                PASSWORD,
                full_name=f"Rep {index}",
                role=Role.SALES_REP,
                team=team,
            )
            _token, company.rep_token = api_token_create(user=rep, name="rep")
            invitation_create(
                email=f"invitee{index}@{subdomain}.example.com",
                role=Role.SALES_REP,
                team=team,
                invited_by=rep,
            )
        company.rep_email, company.team_id = rep.email, team.pk
        _make_crm_records(rows, owner=rep, team=team)
    connection.set_schema_to_public()
    return company


def _make_crm_records(rows: int, *, owner, team) -> None:
    """A few rows of every CRM model, owned by `owner` (more in A than in B)."""
    from django.utils import timezone

    from crm_core import models as crm
    from crm_core.records import name_key, search_text
    from customization.models import FieldDefinition

    for index in range(rows):
        region = crm.Region.objects.create(name=f"Region {index}")
        customer = crm.Customer.objects.create(
            name=f"Customer {index}",
            name_key=name_key(f"Customer {index}"),
            owner=owner,
            team=team,
            region=region,
            search_text=search_text(f"Customer {index}"),
        )
        contact = crm.Contact.objects.create(
            name=f"Contact {index}", customer=customer, owner=owner, team=team
        )
        crm.Lead.objects.create(name=f"Lead {index}", owner=owner, team=team)
        pipeline = crm.Pipeline.objects.create(name=f"Pipeline {index}", position=index)
        stage = crm.Stage.objects.create(pipeline=pipeline, name="Qualify", probability=10)
        deal = crm.Deal.objects.create(
            name=f"Deal {index}",
            customer=customer,
            contact=contact,
            pipeline=pipeline,
            stage=stage,
            owner=owner,
            team=team,
        )
        crm.Activity.objects.create(
            kind="task", subject=f"Task {index}", assignee=owner, customer=customer, deal=deal
        )
        crm.Notification.objects.create(
            user=owner, kind="task_due", title=f"Due {index}", dedupe_key=f"world-{index}"
        )
        crm.AssignmentRule.objects.create(name=f"Rule {index}", entity="lead", team=team)
        crm.ImportJob.objects.create(
            entity="customer", file_name="x.csv", file_data=b"", created_by=owner
        )
        crm.FieldChange.objects.create(
            record_type="customer", record_id=customer.pk, field="owner", changed_at=timezone.now()
        )
        FieldDefinition.objects.create(
            entity="customer", api_name=f"probe_{index}", label=f"Probe {index}", field_type="text"
        )
        _make_workflow_records(deal)
        _make_webhook_rows(index)
        _make_sales_records(index, owner=owner, team=team, customer=customer, deal=deal)


def _make_workflow_records(deal) -> None:
    """A disabled rule with a version and a logged run, and a disabled approval process
    (ids for the isolation probes)."""
    from customization.approvals.models import ApprovalProcess
    from customization.workflows.models import WorkflowRule, WorkflowRuleVersion, WorkflowRun

    rule = WorkflowRule.objects.create(entity="deal", name="World rule", is_enabled=False)
    version = WorkflowRuleVersion.objects.create(
        rule=rule, number=1, trigger={"type": "created"}, actions=[]
    )
    rule.current_version = version
    rule.save(update_fields=["current_version"])
    WorkflowRun.objects.create(
        rule=rule, version=version, record_type="deal", record_id=deal.pk, firing_key="world"
    )
    ApprovalProcess.objects.create(
        entity="deal", name="World process", is_enabled=False,
        steps=[{"approvers": "owner_manager", "mode": "any"}],
    )  # fmt: skip


def _make_webhook_rows(index: int) -> None:
    """A webhook endpoint (disabled: it must not receive the tests' events) and a delivery."""
    from webhooks.models import Delivery, Endpoint

    endpoint = Endpoint.objects.create(url=f"https://example.com/hook-{index}", enabled=False)
    Delivery.objects.create(endpoint=endpoint, event_type="customer.created", body={})


def _make_sales_records(index: int, *, owner, team, customer, deal) -> None:
    """One row of each lead-to-cash collection (products ... invoices, approvals)."""
    from django.utils import timezone

    from crm_core import models as crm

    crm.Product.objects.create(code=f"P-{index}", name=f"Product {index}")
    crm.PriceList.objects.create(name=f"Prices {index}", currency="CNY")
    common = {"customer": customer, "currency": "CNY", "owner": owner, "team": team}
    quote = crm.Quote.objects.create(number=f"Q-W{index}", deal=deal, **common)
    crm.ApprovalRequest.objects.create(
        record_type="quote", record_id=quote.pk, rule="quote_discount", status="cancelled",
    )  # fmt: skip
    contract = crm.Contract.objects.create(
        number=f"C-W{index}", title="Contract", start_date=timezone.localdate(), **common
    )
    order = crm.Order.objects.create(number=f"SO-W{index}", contract=contract, **common)
    crm.Invoice.objects.create(
        number=f"INV-W{index}", order=order, issue_date=timezone.localdate(), total=0, **common
    )


@pytest.fixture(scope="session")
def django_db_setup(django_test_environment, django_db_blocker):
    """Always build the test database. (pytest-django's own fixture builds it only for
    `django_db`-marked tests, and `committed` tests are not marked: they would otherwise
    run against the developer's database.)"""
    from django.test.utils import setup_databases, teardown_databases

    from tenants.provisioning import pool_refill
    from tenants.services import public_site_ensure

    with django_db_blocker.unblock():
        db_cfg = setup_databases(verbosity=0, interactive=False, aliases={"default"})
        assert connection.settings_dict["NAME"].startswith("test_"), "not a test database"
        connection.set_schema_to_public()
        public_site_ensure()
        pool_refill(target=2)
    yield
    with django_db_blocker.unblock():
        _connections.close_all()
        teardown_databases(db_cfg, verbosity=0)


@pytest.fixture(scope="session")
def world(django_db_setup, django_db_blocker) -> World:
    from tenants.provisioning import pool_refill

    with django_db_blocker.unblock():
        world = World(
            a=_make_company("alpha", "Alpha 阿尔法"), b=_make_company("bravo", "ブラボー株式会社")
        )
        pool_refill(target=3)
    return world


@pytest.fixture(autouse=True, scope="session")
def _verify_lean_statements():
    """Every lean list page served from the statement cache is checked against Django's
    own compile of the same queryset (crm_platform.kernel.lean_rows)."""
    from crm_platform.kernel import lean_rows

    lean_rows.VERIFY = True
    yield
    lean_rows.VERIFY = False


@pytest.fixture(autouse=True)
def _schema_hygiene():
    """Every test starts and must end on the public schema with a cold host cache."""
    from accounts.authentication import token_cache
    from customization.cache import customization_cache
    from tenants.resolution import host_cache

    host_cache.clear_local()
    token_cache.clear_local()
    customization_cache.clear_local()  # custom fields and field security, per process
    connection.set_schema_to_public()
    yield
    leaked = connection.schema_name
    connection.set_schema_to_public()
    assert leaked == "public", f"test left the connection on schema {leaked!r}"


@pytest.fixture
def committed(django_db_setup, django_db_blocker):
    """Run code whose writes must be visible to other processes (worker, web server)."""
    with django_db_blocker.unblock():
        yield


def client_for(company_or_host, token: str | None = None) -> TenantClient:
    host = company_or_host if isinstance(company_or_host, str) else company_or_host.host
    headers = {"HTTP_AUTHORIZATION": f"Bearer {token}"} if token else {}
    return TenantClient(host, **headers)


def signed_in(company_or_host, email: str, password: str = PASSWORD) -> TenantClient:
    """A client signed in through the real login page (and django-axes)."""
    client = client_for(company_or_host)
    response = client.post("/accounts/login/", {"username": email, "password": password})
    assert response.status_code == 302, "login failed"
    return client


@contextmanager
def broker_unreachable():
    """Point this process's Celery app at a closed port: a real connection failure."""
    from crm_platform.celery import app

    original = app.conf.broker_url
    app.conf.broker_url = "redis://127.0.0.1:9/0"
    app._pool = None  # the connection and producer pools are rebuilt from broker_url
    app.amqp._producer_pool = None
    try:
        yield
    finally:
        app.conf.broker_url = original
        app._pool = None
        app.amqp._producer_pool = None


def public_client() -> TenantClient:
    return TenantClient(settings.CRM_BASE_DOMAIN)


# --- other processes against the test database ---------------------------------------


def _test_database_url() -> str:
    db = connection.settings_dict
    auth = quote(db["USER"] or "", safe="")
    if db.get("PASSWORD"):
        auth += ":" + quote(db["PASSWORD"], safe="")
    host = quote(db["HOST"] or "localhost", safe="")
    port = f":{db['PORT']}" if db.get("PORT") else ""
    return f"postgres://{auth}@{host}{port}/{db['NAME']}"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _child_env(**extra) -> dict:
    env = dict(os.environ)
    env.update(CRM_TESTING="1", DATABASE_URL=_test_database_url(), LOG_FORMAT="text", **extra)
    return env


def _stop(proc: subprocess.Popen) -> None:
    proc.terminate()
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()


@pytest.fixture(scope="session")
def mail_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("mail")


@dataclass
class StripeServer:
    url: str
    webhook_secret: str


@pytest.fixture(scope="session")
def stripe_server(tmp_path_factory):
    """localstripe (a stateful fake Stripe) on a loopback port; this process and the
    worker and web processes started after it point their Stripe gateway at it."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("stripe") / "localstripe.log", "w")
    proc = subprocess.Popen(
        [sys.executable, "-m", "localstripe", "--port", str(port), "--from-scratch"],
        cwd=tmp_path_factory.getbasetemp(),  # it saves its store in the working directory
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"localstripe did not start; see {log.name}")
        time.sleep(0.1)
    server = StripeServer(url=f"http://127.0.0.1:{port}", webhook_secret="whsec_localstripe_test")
    stripe_env = {
        "STRIPE_API_KEY": "sk_test_localstripe",
        "STRIPE_API_BASE": server.url,
        "STRIPE_LOCALSTRIPE": "1",
        "STRIPE_WEBHOOK_SECRET": server.webhook_secret,
    }
    os.environ.update(stripe_env)  # inherited by _child_env()
    for name, value in stripe_env.items():
        setattr(settings, name, value if name != "STRIPE_LOCALSTRIPE" else True)
    yield server
    _stop(proc)
    log.close()


@pytest.fixture(scope="session")
def celery_worker(world, mail_dir, stripe_server):
    """A real Celery worker process (threads pool) on the test database and Redis."""
    from crm_platform.celery import app

    log = open(mail_dir.parent / "worker.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "celery",
            "-A",
            "crm_platform",
            "worker",
            "--pool",
            "threads",
            "--concurrency",
            "4",
            "--loglevel",
            "info",
            "--without-mingle",
            "--without-gossip",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_child_env(
            EMAIL_BACKEND="django.core.mail.backends.filebased.EmailBackend",
            EMAIL_FILE_PATH=str(mail_dir),
        ),
    )
    deadline = time.monotonic() + 60
    while not app.control.ping(timeout=0.5):
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"Celery worker did not start; see {log.name}")
    yield proc
    _stop(proc)
    log.close()


@dataclass
class LiveWeb:
    port: int

    def url(self, host: str, path: str = "/") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture(scope="session")
def live_web(world, celery_worker, tmp_path_factory) -> LiveWeb:
    """A real web server (gunicorn) on the test database, for browser tests."""
    port = _free_port()
    log = open(tmp_path_factory.mktemp("web") / "web.log", "w")
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "crm_platform.wsgi",
            "--bind",
            f"127.0.0.1:{port}",
            "--workers",
            "2",
            "--threads",
            "4",
        ],
        cwd=ROOT,
        stdout=log,
        stderr=subprocess.STDOUT,
        env=_child_env(CRM_PUBLIC_PORT=str(port)),
    )
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=1):
                break
        except OSError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            _stop(proc)
            raise RuntimeError(f"web server did not start; see {log.name}")
        time.sleep(0.2)
    yield LiveWeb(port=port)
    _stop(proc)
    log.close()


# --- browser tests (see tests/browser.py) ---------------------------------------------


@pytest.fixture(scope="module")
def browser():
    """Chromium for one test module (module scope: while Playwright's sync API is active,
    Django refuses queries in this thread, so it must not outlive the browser tests)."""
    from playwright.sync_api import sync_playwright

    from tests.browser import CHROMIUM_ARGS, require_chromium

    executable = require_chromium()
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=executable, headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()


@pytest.fixture
def page(browser):
    context = browser.new_context(locale="en-US", viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.set_default_timeout(15_000)
    yield page
    context.close()
