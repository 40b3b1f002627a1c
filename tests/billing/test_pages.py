"""The company's Billing page and API, and the operator console (in-process)."""

import io
import secrets
import zipfile
from datetime import timedelta

import pytest
from django.utils import timezone

from billing.models import BillingAccount, OperatorAction, Plan
from billing.services.accounts import account_change_plan
from billing.services.plans import plan_save
from tenants.models import Tenant
from tests.conftest import PASSWORD, client_for, public_client, signed_in

from .conftest import add_user, new_company


def test_billing_api_for_admins_only(billing):
    account = new_company()
    tenant = account.tenant
    api = client_for(tenant, account.api_token)
    body = api.get("/api/v1/billing/").json()
    assert body["status"] == "trialing"
    assert body["plan"]["code"] == account.plan.code
    assert body["seats"] == {
        "billable": 1,
        "free": 0,
        "charged": 1,
        "on_subscription": 1,
        "sync_state": "ok",
    }
    assert body["next_invoice"]["amount"] == account.plan.price_per_user
    assert body["payment_method"] == "" and body["invoices"] == []
    assert body["plan"]["max_users"] == account.plan.max_users

    add_user(tenant, "rep@example.com")
    rep = signed_in(tenant, "rep@example.com")
    assert rep.get("/api/v1/billing/").status_code == 403
    assert rep.get("/settings/billing/").status_code == 403
    assert rep.post("/api/v1/billing/card/").status_code == 403


def test_billing_api_validates_input(billing):
    account = new_company()
    api = client_for(account.tenant, account.api_token)
    bad = api.post("/api/v1/billing/plan/", {"plan": "nope"}, content_type="application/json")
    assert bad.status_code == 400 and bad.json()["error"]["fields"] == {"plan": ["Unknown plan."]}
    extra = api.post(
        "/api/v1/billing/cancel/",
        {"cancel_at_period_end": True, "now": True},
        content_type="application/json",
    )
    assert extra.status_code == 400 and "now" in extra.json()["error"]["fields"]
    ok = api.post(
        "/api/v1/billing/cancel/", {"cancel_at_period_end": True}, content_type="application/json"
    )
    assert ok.status_code == 200 and ok.json()["cancel_at_period_end"] is True


def test_billing_page_shows_plan_seats_invoices_and_changes_plan(billing):
    account = new_company()
    tenant = account.tenant
    plan_save(name=f"Team {secrets.token_hex(2)}", price_per_user=2500)
    page = signed_in(tenant, f"owner@{tenant.subdomain}.example.com")
    html = page.get("/settings/billing/").content.decode()
    assert account.plan.name in html and account.plan.price_display in html
    assert 'id="seats-billable">1<' in html
    response = page.post("/settings/billing/card/")
    assert response.status_code == 302
    html = page.get("/settings/billing/").content.decode()
    assert "visa •••• 4242" in html and "paid" in html  # the first invoice
    other = Plan.objects.exclude(pk=account.plan_id).filter(is_active=True).first()
    page.post("/settings/billing/plan/", {"plan": other.code})
    account.refresh_from_db()
    assert account.plan == other


# --- operator console -----------------------------------------------------------------


@pytest.fixture
def operator(committed):
    from accounts.models import User

    email = f"op{secrets.token_hex(3)}@example.com"
    user = User.objects.create_superuser(email, PASSWORD, full_name="Op")
    client = public_client()
    client.force_login(user)
    return client


def test_only_operators_reach_the_console(billing, world):
    from accounts.models import User

    assert public_client().get("/console/").status_code == 302  # to the sign-in page
    staff = User.objects.create_user(f"nosu{secrets.token_hex(3)}@example.com", PASSWORD)
    client = public_client()
    client.force_login(staff)
    assert client.get("/console/").status_code == 403
    # A company's administrator: the console does not exist on company hosts.
    owner = client_for(world.a, world.a.owner_token)
    assert owner.get("/console/").status_code == 404


def test_console_lists_searches_and_shows_a_company(billing, operator):
    account = new_company("cons")
    tenant = account.tenant
    html = operator.get("/console/", {"q": tenant.subdomain}).content.decode()
    assert tenant.name in html and html.count("/console/tenants/") == 1
    assert tenant.name not in operator.get("/console/", {"status": "suspended"}).content.decode()
    detail = operator.get(f"/console/tenants/{tenant.pk}/").content.decode()
    assert account.stripe_subscription_id in detail and "seat-sync-state" in detail
    assert operator.get("/console/tenants/999999/").status_code == 404


def test_console_actions_are_audited(billing, operator):
    account = new_company("act")
    tenant = account.tenant
    before = account.trial_ends_at
    base = f"/console/tenants/{tenant.pk}"
    assert operator.post(f"{base}/extend_trial/", {"days": "10"}).status_code == 302
    account.refresh_from_db()
    assert account.trial_ends_at == before + timedelta(days=10)
    operator.post(f"{base}/grant_free_seats/", {"seats": "2"})
    operator.post(f"{base}/suspend/", {"reason": "abuse"})
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.SUSPENDED
    assert client_for(tenant, account.api_token).get("/api/v1/me/").status_code == 403
    operator.post(f"{base}/reactivate/")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.TRIAL  # what the subscription allows
    export = operator.post(f"{base}/export/")
    archive = zipfile.ZipFile(io.BytesIO(export.content))
    users = archive.read("accounts_user.jsonl").decode()
    assert f"owner@{tenant.subdomain}" in users and "pbkdf2" not in users
    operator.post(f"{base}/sync_seats/")
    account.refresh_from_db()
    assert account.seats_synced == 1  # two free seats, but never fewer than one
    bad = operator.post(f"{base}/extend_trial/", {"days": "x"}, follow=True)
    assert "Enter a whole number." in bad.content.decode()
    actions = list(
        OperatorAction.objects.filter(tenant=tenant).order_by("id").values_list("action", flat=True)
    )
    assert actions == [
        "extend_trial",
        "grant_free_seats",
        "suspend",
        "reactivate",
        "export",
        "sync_seats",
    ]


def test_purge_only_after_the_retention_period(billing, operator):
    account = new_company("purge")
    tenant = account.tenant
    base = f"/console/tenants/{tenant.pk}"
    operator.post(f"{base}/cancel/")
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.CANCELLED
    operator.post(f"{base}/purge/", {"confirm": tenant.subdomain})
    assert Tenant.objects.filter(pk=tenant.pk).exists()  # still in retention
    BillingAccount.objects.filter(pk=account.pk).update(
        canceled_at=timezone.now() - timedelta(days=31)
    )
    operator.post(f"{base}/purge/", {"confirm": "wrong"})
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    operator.post(f"{base}/purge/", {"confirm": tenant.subdomain})
    assert not Tenant.objects.filter(pk=tenant.pk).exists()
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_namespace WHERE nspname = %s", [tenant.schema_name])
        assert cursor.fetchone() is None
    log = OperatorAction.objects.filter(tenant_label__contains=tenant.subdomain)
    assert set(log.values_list("action", flat=True)) == {"cancel", "purge"}


def test_metrics_page_draws_charts(billing, operator):
    account = new_company("met")
    from billing.services.accounts import account_add_card
    from billing.services.metrics import snapshot_take

    account_add_card(account=account, return_url="http://x/")
    snapshot_take(day=timezone.localdate() - timedelta(days=1))
    html = operator.get("/console/metrics/").content.decode()
    assert html.count("<svg") == 6
    assert "<polyline" in html and "<rect" in html
    assert 'id="mrr-now">' in html


def test_the_plans_user_limit_stops_invitations(billing):
    account = new_company("lim")
    small = plan_save(name=f"Solo {secrets.token_hex(2)}", price_per_user=900, max_users=2)
    # Through the service, so Stripe has the plan too: a Stripe event the worker applies
    # meanwhile would otherwise put the account back on Stripe's plan.
    account_change_plan(account=account, plan=small)
    api = client_for(account.tenant, account.api_token)
    first = api.post(
        "/api/v1/invitations/",
        {"email": "a@example.com", "role": "sales_rep"},
        content_type="application/json",
    )
    assert first.status_code == 201, first.content
    second = api.post(
        "/api/v1/invitations/",
        {"email": "b@example.com", "role": "sales_rep"},
        content_type="application/json",
    )
    assert second.status_code == 400
    assert second.json()["error"]["fields"] == {"email": ["Your plan allows at most 2 users."]}
    page = signed_in(account.tenant, f"owner@{account.tenant.subdomain}.example.com")
    assert "Your plan allows up to 2 users." in page.get("/settings/billing/").content.decode()


def test_operators_define_plans_and_the_sweep_opens_missing_accounts(billing, operator):
    from billing.services.accounts import billing_sweep

    code_name = f"Growth {secrets.token_hex(2)}"
    bad = operator.post("/console/plans/", {"name": "", "price_per_user": "1", "trial_days": "3"})
    assert bad.status_code == 302 and not Plan.objects.filter(price_per_user=1).exists()
    operator.post(
        "/console/plans/",
        {"name": code_name, "price_per_user": "1900", "currency": "eur", "trial_days": "14"},
    )
    plan = Plan.objects.get(name=code_name)
    assert (plan.price_per_user, plan.currency, plan.trial_days) == (1900, "eur", 14)
    assert code_name in operator.get("/console/plans/").content.decode()
    # Editing: limits, trial and the offer change; the price stays; the audit log says so.
    assert operator.get(f"/console/plans/{plan.pk}/").status_code == 200
    operator.post(
        f"/console/plans/{plan.pk}/",
        {
            "name": code_name,
            "trial_days": "21",
            "max_users": "50",
            "max_custom_fields": "20",
            "api_rate_per_minute": "120",
            "price_per_user": "1",  # ignored
        },
    )
    plan.refresh_from_db()
    assert (plan.trial_days, plan.max_users, plan.max_custom_fields) == (21, 50, 20)
    assert (plan.api_rate_per_minute, plan.price_per_user, plan.is_active) == (120, 1900, False)
    action = OperatorAction.objects.filter(action="plan_changed").latest("id")
    assert action.details["plan"] == plan.code and action.details["trial_days"] == [14, 21]

    account = new_company("sweep")
    BillingAccount.objects.filter(pk=account.pk).delete()  # e.g. signed up before billing
    assert billing_sweep()["opened"] >= 1
    assert BillingAccount.objects.get(tenant=account.tenant).trial_ends_at == (
        account.tenant.trial_ends_at
    )
