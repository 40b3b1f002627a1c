"""Writes about a company's billing account: opening it, its Stripe subscription, and
what the subscription's state means for the company (access states)."""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import gateway
from billing.models import BillingAccount, Plan
from tenants.models import Tenant
from tenants.services import tenant_set_status

from .invoices import invoices_sync
from .notify import billing_notify
from .plans import plan_default, plan_sync_stripe
from .seats import seats_count

logger = logging.getLogger(__name__)

S = BillingAccount.Status
T = Tenant.Status

# Subscription states and the company state each allows (past_due: see grace below).
_ACCESS = {
    S.TRIALING: T.TRIAL,
    S.ACTIVE: T.ACTIVE,
    S.UNPAID: T.READ_ONLY,
    S.PAUSED: T.READ_ONLY,
    S.CANCELED: T.CANCELLED,
}


def account_open(*, tenant: Tenant) -> BillingAccount:
    """The company's billing account, on the default plan and the company's trial end.
    Idempotent; the Stripe side is set up afterwards (`account_setup_stripe`)."""
    account, created = BillingAccount.objects.get_or_create(
        tenant=tenant,
        defaults={
            "plan": plan_default(),
            "trial_ends_at": tenant.trial_ends_at,
            "status": S.PENDING,
            "seats_billable": seats_count(tenant=tenant),
        },
    )
    if created and gateway.enabled():
        account_pk = account.pk
        transaction.on_commit(lambda: _queue_setup(account_pk))
    return account


def _queue_setup(account_id: int) -> None:
    from billing.tasks import account_setup_task

    try:
        account_setup_task.apply_async(args=[account_id], retry=False)
    except Exception:  # noqa: BLE001 - the billing sweep sets it up later
        logger.warning("billing: broker unavailable, account %s left to the sweep", account_id)


def _owner_email(tenant: Tenant) -> str:
    from accounts.models import User

    with tenant_context(tenant):
        owner = User.objects.filter(is_owner=True).first()
        return owner.email if owner else ""


def account_setup_stripe(*, account_id: int) -> BillingAccount | None:
    """Create the Stripe customer and the trial subscription. Safe to repeat: each step
    is skipped once done, and idempotency keys make a retried call return the first
    result instead of a second customer or subscription."""
    if not gateway.enabled():
        return None
    failure = None
    with transaction.atomic():
        account = (
            BillingAccount.objects.select_for_update()
            .select_related("tenant", "plan")
            .filter(pk=account_id)
            .first()
        )
        if account is None or account.stripe_subscription_id:
            return account
        tenant = account.tenant
        try:
            plan = plan_sync_stripe(plan=account.plan)
            if not account.stripe_customer_id:
                account.stripe_customer_id = gateway.customer_create(
                    email=_owner_email(tenant),
                    name=tenant.name,
                    schema_name=tenant.schema_name,
                    idempotency_key=f"customer-{tenant.schema_name}",
                )
                account.save(update_fields=["stripe_customer_id", "updated_at"])
            # Stripe refuses a trial end in the past: a trial that ran out while Stripe
            # was unreachable gets a short one (the local trial end stays authoritative).
            trial_end = max(
                account.trial_ends_at or timezone.now(), timezone.now() + timedelta(hours=1)
            )
            subscription = gateway.subscription_create(
                customer_id=account.stripe_customer_id,
                price_id=plan.stripe_price_id,
                quantity=account.seats_charged,
                trial_end=trial_end,
                idempotency_key=f"subscription-{tenant.schema_name}-{plan.stripe_price_id}",
            )
        except gateway.GatewayError as exc:
            account.setup_error = str(exc)[:1000]
            account.save(update_fields=["setup_error", "updated_at"])
            failure = exc  # raised after commit: the error stays visible to operators
        else:
            account.stripe_subscription_id = subscription["id"]
            account.seat_synced_at = timezone.now()  # created with the current count
            account.setup_error = ""
            account.save(update_fields=["stripe_subscription_id", "setup_error", "updated_at"])
            account = account_apply_subscription(account=account, subscription=subscription)
    if failure is not None:
        raise failure
    return account


def _mrr(account: BillingAccount) -> int:
    if account.status in (S.ACTIVE, S.PAST_DUE):
        return account.plan.price_per_user * account.seats_charged
    return 0


def account_apply_subscription(*, account: BillingAccount, subscription: dict) -> BillingAccount:
    """Bring the account to the subscription's current state (as just fetched from
    Stripe) and the company to the access state it allows. Applying the same state
    twice, or states fetched in any order, ends in the same place."""
    status = subscription["status"]
    if status not in S.values:
        status = S.INCOMPLETE
    now = timezone.now()
    if status == S.PAST_DUE and account.status != S.PAST_DUE:
        account.grace_ends_at = now + timedelta(days=settings.BILLING_GRACE_DAYS)
    elif status != S.PAST_DUE:
        account.grace_ends_at = None
    if status == S.CANCELED and account.canceled_at is None:
        account.canceled_at = subscription["canceled_at"] or now
    if status == S.ACTIVE and account.converted_at is None and account.has_payment_method:
        account.converted_at = now
    account.status = status
    if subscription["trial_end"] and status == S.TRIALING:
        account.trial_ends_at = subscription["trial_end"]
    account.current_period_end = subscription["current_period_end"]
    account.cancel_at_period_end = subscription["cancel_at_period_end"]
    account.stripe_item_id = subscription["item_id"] or account.stripe_item_id
    account.seats_synced = subscription["quantity"]
    plan = Plan.objects.filter(stripe_price_id=subscription["price_id"]).first()
    if plan is not None:
        account.plan = plan
    account.mrr_cents = _mrr(account)
    account.save()
    account_enforce_access(account=account)
    return account


def account_enforce_access(*, account: BillingAccount) -> Tenant:
    """Set the company's state from the account. An operator's suspension stays until an
    operator lifts it; a trial whose local end has passed without a card is read-only
    whatever Stripe says (it may be unreachable)."""
    tenant = Tenant.objects.select_for_update().get(pk=account.tenant_id)
    if tenant.status in (T.SUSPENDED, T.PROVISIONING) or tenant.status not in (
        *Tenant.LIVE_STATUSES,
        T.CANCELLED,
    ):
        return tenant
    now = timezone.now()
    target = _ACCESS.get(account.status, tenant.status)
    if account.status == S.PAST_DUE:
        in_grace = account.grace_ends_at is None or account.grace_ends_at > now
        target = T.PAST_DUE if in_grace else T.READ_ONLY
    if account.status in (S.PENDING, S.TRIALING, S.INCOMPLETE):
        trial_over = account.trial_ends_at is not None and account.trial_ends_at <= now
        if trial_over and not account.has_payment_method:
            target = T.READ_ONLY
        elif account.status != S.INCOMPLETE:
            target = T.TRIAL
    if target != tenant.status:
        tenant_set_status(tenant=tenant, status=target, trial_ends_at=account.trial_ends_at)
        # A trial that ran out without a card (Stripe pauses it; localstripe and the local
        # clock leave it trialing or incomplete), not a lapsed paid subscription.
        if (
            target == T.READ_ONLY
            and account.converted_at is None
            and not account.has_payment_method
        ):
            _notify_trial_ended(account)
    elif account.trial_ends_at and tenant.trial_ends_at != account.trial_ends_at:
        tenant.trial_ends_at = account.trial_ends_at
        tenant.save(update_fields=["trial_ends_at", "updated_at"])
    return tenant


def _notify_trial_ended(account: BillingAccount) -> None:
    # A conditional UPDATE: of concurrent callers (worker, sweep) exactly one sends.
    if not _claim(account, "trial_ended_for"):
        return
    billing_notify(tenant=account.tenant, kind="trial_ended", payload={})


def _claim(account: BillingAccount, field: str) -> bool:
    """Mark `field` as done for the current trial end; False if someone already did."""
    claimed = (
        BillingAccount.objects.filter(pk=account.pk)
        .exclude(**{field: account.trial_ends_at})
        .update(**{field: account.trial_ends_at})
    )
    setattr(account, field, account.trial_ends_at)
    return bool(claimed)


def account_notify_trial_ending(*, account: BillingAccount) -> bool:
    """The owner's 'trial ends in 3 days' e-mail, once per trial end (Stripe's
    trial_will_end and the local sweep both ask; the first one sends)."""
    if account.trial_ends_at is None or not _claim(account, "trial_warning_for"):
        return False
    billing_notify(
        tenant=account.tenant,
        kind="trial_ending",
        payload={"trial_ends_at": account.trial_ends_at.isoformat()},
    )
    return True


def account_refresh(*, account: BillingAccount) -> BillingAccount:
    """Re-fetch the subscription from Stripe and apply it."""
    if not (gateway.enabled() and account.stripe_subscription_id):
        return account
    subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        return account_apply_subscription(account=account, subscription=subscription)


def account_card_added(*, account: BillingAccount, payment_method_label: str) -> BillingAccount:
    """A card is on file: a trial (running or ended) becomes a paid subscription."""
    account.payment_method = payment_method_label
    account.save(update_fields=["payment_method", "updated_at"])
    if not account.stripe_subscription_id:
        return account
    subscription = gateway.subscription_retrieve(account.stripe_subscription_id)
    if subscription["status"] in (S.TRIALING, S.PAUSED, S.INCOMPLETE):
        subscription = gateway.subscription_start_paying(
            subscription=subscription, customer_id=account.stripe_customer_id
        )
    with transaction.atomic():
        account = BillingAccount.objects.select_for_update().get(pk=account.pk)
        account = account_apply_subscription(account=account, subscription=subscription)
    invoices_sync(account=account)  # the first invoice shows at once, webhooks or not
    return account


def account_add_card(*, account: BillingAccount, return_url: str) -> str | None:
    """Start adding a card: the URL of Stripe's hosted page, or None when the card was
    attached directly (localstripe, which has no hosted page)."""
    if not account.stripe_customer_id:
        raise gateway.GatewayError("The billing account is still being set up.")
    url = gateway.card_setup_session(customer_id=account.stripe_customer_id, return_url=return_url)
    if url is None:
        label = gateway.payment_method_attach(
            customer_id=account.stripe_customer_id,
            payment_method_id=settings.STRIPE_TEST_PAYMENT_METHOD,
        )
        account_card_added(account=account, payment_method_label=label)
    return url


def account_change_plan(*, account: BillingAccount, plan: Plan) -> BillingAccount:
    plan = plan_sync_stripe(plan=plan)
    if account.stripe_subscription_id and plan.stripe_price_id:
        subscription = gateway.subscription_set_items(
            subscription_id=account.stripe_subscription_id,
            item_id=account.stripe_item_id,
            quantity=account.seats_charged,
            price_id=plan.stripe_price_id,
        )
        with transaction.atomic():
            account = BillingAccount.objects.select_for_update().get(pk=account.pk)
            account.plan = plan
            return account_apply_subscription(account=account, subscription=subscription)
    account.plan = plan
    account.mrr_cents = _mrr(account)
    account.save(update_fields=["plan", "mrr_cents", "updated_at"])
    return account


def account_cancel_at_period_end(*, account: BillingAccount, cancel: bool) -> BillingAccount:
    if account.stripe_subscription_id:
        subscription = gateway.subscription_cancel_at_period_end(
            subscription_id=account.stripe_subscription_id, cancel=cancel
        )
        with transaction.atomic():
            account = BillingAccount.objects.select_for_update().get(pk=account.pk)
            return account_apply_subscription(account=account, subscription=subscription)
    account.cancel_at_period_end = cancel
    account.save(update_fields=["cancel_at_period_end", "updated_at"])
    return account


def account_cancel_now(*, account: BillingAccount) -> BillingAccount:
    if account.stripe_subscription_id and account.status != S.CANCELED:
        subscription = gateway.subscription_cancel_now(
            subscription_id=account.stripe_subscription_id
        )
        with transaction.atomic():
            account = BillingAccount.objects.select_for_update().get(pk=account.pk)
            return account_apply_subscription(account=account, subscription=subscription)
    with transaction.atomic():
        account.status, account.canceled_at = S.CANCELED, account.canceled_at or timezone.now()
        account.mrr_cents = 0
        account.save()
        account_enforce_access(account=account)
    return account


def account_extend_trial(*, account: BillingAccount, days: int) -> BillingAccount:
    base = max(account.trial_ends_at or timezone.now(), timezone.now())
    new_end = base + timedelta(days=days)
    if account.stripe_subscription_id and account.status in (S.TRIALING, S.PENDING):
        subscription = gateway.subscription_set_trial_end(
            subscription_id=account.stripe_subscription_id, trial_end=new_end
        )
        with transaction.atomic():
            account = BillingAccount.objects.select_for_update().get(pk=account.pk)
            account.trial_ends_at = new_end
            return account_apply_subscription(account=account, subscription=subscription)
    with transaction.atomic():
        account.trial_ends_at = new_end
        if account.status in (S.PAUSED, S.INCOMPLETE):
            account.status = S.TRIALING if account.stripe_subscription_id else S.PENDING
        account.save()
        account_enforce_access(account=account)
    return account


def billing_sweep() -> dict:
    """Beat's safety net (every few minutes, public schema): trial-ending e-mails, trials
    ended on the local clock, past-due grace periods, and Stripe set-up or seat syncs whose
    task was lost."""
    now = timezone.now()
    counts = {"opened": 0, "warned": 0, "enforced": 0, "setup": 0, "seat_syncs": 0}
    # Companies that signed up before billing existed, or whose outbox event is stuck.
    for tenant in Tenant.objects.filter(
        status__in=Tenant.LIVE_STATUSES, billing_account__isnull=True
    ).exclude(schema_name=settings.PUBLIC_SCHEMA_NAME):
        with transaction.atomic():
            account_open(tenant=tenant)
        counts["opened"] += 1
    in_trial = (S.PENDING, S.TRIALING, S.INCOMPLETE)
    warn_from = now + timedelta(days=3)
    for account in BillingAccount.objects.select_related("tenant").filter(
        status__in=in_trial, trial_ends_at__gt=now, trial_ends_at__lte=warn_from
    ):
        counts["warned"] += account_notify_trial_ending(account=account)
    due = BillingAccount.objects.filter(
        status__in=in_trial, trial_ends_at__lte=now
    ) | BillingAccount.objects.filter(status=S.PAST_DUE, grace_ends_at__lte=now)
    for account in due.select_related("tenant"):
        with transaction.atomic():
            before = account.tenant.status
            if account_enforce_access(account=account).status != before:
                counts["enforced"] += 1
    if gateway.enabled():
        for account_id in BillingAccount.objects.filter(stripe_subscription_id="").values_list(
            "pk", flat=True
        ):
            _queue_setup(account_id)
            counts["setup"] += 1
    from .seats import seat_sync_requeue_lost

    counts["seat_syncs"] = seat_sync_requeue_lost()
    return counts
