"""Trial signup, seats, paying, trial end and cancellation, against localstripe."""

from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import gateway
from billing.models import BillingAccount
from billing.services.accounts import (
    account_add_card,
    account_cancel_at_period_end,
    account_change_plan,
    billing_sweep,
)
from billing.services.plans import plan_save
from billing.services.seats import seat_sync_run
from tenants.models import Tenant
from tests.conftest import client_for

from .conftest import add_user, dispatch_outbox, new_company, outbox_types, stripe_client


def _stripe_subscription(account):
    return stripe_client().v1.subscriptions.retrieve(account.stripe_subscription_id).to_dict()


def test_signup_starts_a_trial_subscription_on_stripe(billing):
    account = new_company()
    tenant = account.tenant
    assert tenant.status == Tenant.Status.TRIAL
    assert account.status == BillingAccount.Status.TRIALING
    assert account.stripe_customer_id.startswith("cus_")
    sub = _stripe_subscription(account)
    assert sub["customer"] == account.stripe_customer_id
    assert sub["items"]["data"][0]["quantity"] == 1
    # The trial ends when the company's trial ends (the local date is the reference).
    assert sub["trial_end"] == int(tenant.trial_ends_at.timestamp())
    assert account.trial_ends_at == tenant.trial_ends_at
    customer = stripe_client().v1.customers.retrieve(account.stripe_customer_id).to_dict()
    assert customer["email"] == f"owner@{tenant.subdomain}.example.com"


def test_setting_up_twice_keeps_one_customer_and_subscription(billing):
    from billing.services.accounts import account_setup_stripe

    account = new_company()
    again = account_setup_stripe(account_id=account.pk)
    assert (again.stripe_customer_id, again.stripe_subscription_id) == (
        account.stripe_customer_id,
        account.stripe_subscription_id,
    )
    subs = stripe_client().v1.subscriptions.list(
        params={"customer": account.stripe_customer_id, "status": "all"}
    )
    assert len(subs.data) == 1


def test_seat_changes_reach_stripe_and_only_when_the_count_differs(billing):
    from accounts.models import User
    from accounts.services import user_update
    from tests.conftest import broker_unreachable

    account = new_company()
    tenant = account.tenant
    with broker_unreachable():  # this process does the background work, not a worker
        user = add_user(tenant, "second@example.com")
        dispatch_outbox(tenant)  # user.joined -> seat sync requested
    account.refresh_from_db()
    assert account.seat_sync_state == BillingAccount.SeatSync.PENDING
    seat_sync_run(tenant_id=tenant.pk)
    account.refresh_from_db()
    assert (account.seats_billable, account.seats_synced) == (2, 2)
    assert account.seat_sync_state == BillingAccount.SeatSync.OK
    item_id = _stripe_subscription(account)["items"]["data"][0]["id"]
    assert _stripe_subscription(account)["items"]["data"][0]["quantity"] == 2

    # Nothing changed: no update is sent (localstripe replaces the item on each update).
    seat_sync_run(tenant_id=tenant.pk)
    assert _stripe_subscription(account)["items"]["data"][0]["id"] == item_id

    with broker_unreachable(), tenant_context(tenant):
        owner = User.objects.get(is_owner=True)
        user_update(user=User.objects.get(pk=user.pk), actor=owner, is_active=False)
    connection.set_schema_to_public()
    with broker_unreachable():
        dispatch_outbox(tenant)
    account.refresh_from_db()
    assert account.seat_sync_state == BillingAccount.SeatSync.PENDING
    seat_sync_run(tenant_id=tenant.pk)
    assert _stripe_subscription(account)["items"]["data"][0]["quantity"] == 1


def test_stripe_unreachable_user_management_works_and_sync_catches_up(billing, settings):
    account = new_company()
    tenant = account.tenant
    real_base = settings.STRIPE_API_BASE
    settings.STRIPE_API_BASE = "http://127.0.0.1:9"  # closed port: a real connection failure
    from tests.conftest import broker_unreachable

    with broker_unreachable():  # background work done here, by this (Stripe-less) process
        add_user(tenant, "during-outage@example.com")  # user management does not wait
        dispatch_outbox(tenant)
    with pytest.raises(gateway.GatewayError) as failure:
        seat_sync_run(tenant_id=tenant.pk)
    assert failure.value.unreachable
    account.refresh_from_db()
    assert account.seat_sync_state == BillingAccount.SeatSync.FAILED
    assert account.seat_sync_attempts == 1 and "unreachable" in account.seat_sync_error
    assert account.seat_sync_stuck  # shown to operators

    settings.STRIPE_API_BASE = real_base
    seat_sync_run(tenant_id=tenant.pk)
    account.refresh_from_db()
    assert account.seat_sync_state == BillingAccount.SeatSync.OK
    assert _stripe_subscription(account)["items"]["data"][0]["quantity"] == 2


def test_signup_while_stripe_is_down_uses_the_local_trial_end(billing, settings):
    from tests.conftest import broker_unreachable

    settings.STRIPE_API_BASE = "http://127.0.0.1:9"
    # The broker too, so that no worker (which reaches Stripe) sets the account up meanwhile.
    with broker_unreachable(), pytest.raises(gateway.GatewayError):
        new_company()
    account = BillingAccount.objects.order_by("-pk").first()
    assert account.status == BillingAccount.Status.PENDING and "unreachable" in account.setup_error
    assert account.tenant.status == Tenant.Status.TRIAL
    BillingAccount.objects.filter(pk=account.pk).update(
        trial_ends_at=timezone.now() - timedelta(minutes=1)
    )
    billing_sweep()  # Stripe still unreachable: the local clock ends the trial
    account.tenant.refresh_from_db()
    assert account.tenant.status == Tenant.Status.READ_ONLY
    assert "billing.trial_ended" in outbox_types(account.tenant)


def test_adding_a_card_turns_the_trial_into_a_paid_subscription(billing):
    account = new_company()
    assert account_add_card(account=account, return_url="http://x/") is None  # no hosted page
    account.refresh_from_db()
    assert account.payment_method == "visa •••• 4242"
    assert account.status == BillingAccount.Status.ACTIVE
    assert account.tenant.status == Tenant.Status.ACTIVE
    assert account.mrr_cents == account.plan.price_per_user
    assert account.converted_at is not None
    invoices = stripe_client().v1.invoices.list(params={"customer": account.stripe_customer_id})
    assert [i.status for i in invoices.data] == ["paid"]


def test_trial_end_without_card_makes_the_company_read_only_until_a_card(billing):
    account = new_company()
    tenant = account.tenant
    for _ in range(2):  # the sweep warns once
        BillingAccount.objects.filter(pk=account.pk).update(
            trial_ends_at=timezone.now() + timedelta(days=2)
        ) if _ == 0 else None
        billing_sweep()
    assert outbox_types(tenant) == ["billing.trial_ending"]

    BillingAccount.objects.filter(pk=account.pk).update(
        trial_ends_at=timezone.now() - timedelta(seconds=1)
    )
    billing_sweep()
    billing_sweep()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.READ_ONLY
    assert outbox_types(tenant) == ["billing.trial_ending", "billing.trial_ended"]
    assert BillingAccount.objects.filter(pk=account.pk).exists()  # not deleted

    api = client_for(tenant, account.api_token)
    assert api.get("/api/v1/customers/").status_code == 200  # data still readable
    blocked = api.post("/api/v1/customers/", {"name": "X"}, content_type="application/json")
    assert blocked.status_code == 403 and blocked.json()["error"]["code"] == "read_only"
    added = api.post("/api/v1/billing/card/", {}, content_type="application/json")
    assert added.status_code == 200, added.content
    assert added.json() == {"url": None, "payment_method": "visa •••• 4242"}
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.ACTIVE


def test_trial_ending_e_mail_is_in_the_owners_language(billing):
    from django.core import mail

    from accounts.models import User

    account = new_company()
    tenant = account.tenant
    with tenant_context(tenant):
        User.objects.filter(is_owner=True).update(language="ja")
    connection.set_schema_to_public()
    BillingAccount.objects.filter(pk=account.pk).update(
        trial_ends_at=timezone.now() + timedelta(days=2)
    )
    from tests.conftest import broker_unreachable

    with broker_unreachable():  # the e-mail is sent here, not by a worker
        billing_sweep()
        mail.outbox = []
        dispatch_outbox(tenant)
    [message] = [m for m in mail.outbox if tenant.name in m.body or tenant.name in m.subject]
    assert message.to == [f"owner@{tenant.subdomain}.example.com"]
    assert "無料トライアル" in message.subject
    assert "/settings/billing/" in message.body


def test_plan_change_and_cancel_at_period_end(billing):
    account = new_company()
    premium = plan_save(name=f"Premium {account.pk}", price_per_user=3000, trial_days=30)
    account = account_change_plan(account=account, plan=premium)
    premium.refresh_from_db()
    sub = _stripe_subscription(account)
    assert sub["items"]["data"][0]["plan"]["id"] == premium.stripe_price_id
    assert account.plan == premium
    account = account_cancel_at_period_end(account=account, cancel=True)
    assert _stripe_subscription(account)["cancel_at_period_end"] is True
    assert account.cancel_at_period_end
    account = account_cancel_at_period_end(account=account, cancel=False)
    assert _stripe_subscription(account)["cancel_at_period_end"] is False


def test_a_read_only_company_gets_no_periodic_writes_but_its_e_mails(billing):
    from tenants.tasks import LiveTenantScheduler

    account = new_company()
    tenant = account.tenant
    BillingAccount.objects.filter(pk=account.pk).update(
        trial_ends_at=timezone.now() - timedelta(seconds=1)
    )
    billing_sweep()
    tenant.refresh_from_db()
    assert tenant.status == Tenant.Status.READ_ONLY

    def schemas(task):
        return set(LiveTenantScheduler.get_queryset(task).values_list("schema_name", flat=True))

    assert tenant.schema_name not in schemas("crm.pool_sweep")
    assert tenant.schema_name not in schemas("crm.reminders_compute")
    assert tenant.schema_name in schemas("outbox.dispatch")  # the trial-ended e-mail
    assert "public" in schemas("billing.sweep")


def test_beat_skips_read_only_companies_for_writing_jobs(billing, caplog, tmp_path):
    from celery.schedules import schedule

    from crm_platform.celery import app
    from tenants.tasks import LiveTenantScheduler
    from tests.conftest import broker_unreachable

    account = new_company()
    tenant = account.tenant
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.READ_ONLY)
    scheduler = LiveTenantScheduler(app=app, schedule_filename=str(tmp_path / "beat"), lazy=True)

    def sent_to(task):
        entry = scheduler.Entry(
            name=task,
            task=task,
            schedule=schedule(60),
            options={"headers": {"_all_tenants_only": True}},
            app=app,
        )
        caplog.clear()
        with caplog.at_level("DEBUG", logger="tenant_schemas_celery.scheduler"):
            with broker_unreachable():  # nothing really leaves: the sends fail and are logged
                scheduler.apply_entry(entry)
        return {
            r.args[2]
            for r in caplog.records
            if isinstance(r.msg, str) and r.msg.startswith("Sending due task")
        }

    assert tenant.schema_name not in sent_to("crm.pool_sweep")
    assert tenant.schema_name in sent_to("outbox.dispatch")
