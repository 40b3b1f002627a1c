"""Seat sync: the number of billable users, kept equal on the Stripe subscription.

A change in a company's users requests a sync; requests within
BILLING_SEAT_SYNC_COUNTDOWN seconds share one task (a Redis key marks one as queued).
The task recounts under the account's row lock (one sync per company at a time) and
calls Stripe only when the count differs. User management never waits for any of this.
"""

from __future__ import annotations

import logging
from datetime import timedelta

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from django_tenants.utils import tenant_context

from billing import gateway
from billing.models import BillingAccount

logger = logging.getLogger(__name__)


def seats_count(*, tenant) -> int:
    """Billable seats: active users (each one joined through the signup or an accepted
    invitation; open invitations are not users yet). At least one."""
    from accounts.models import User

    with tenant_context(tenant):
        return max(1, User.objects.filter(is_active=True, is_staff=False).count())


def _queued_key(tenant_id: int) -> str:
    return f"billing:seat-sync-queued:{tenant_id}"


def seat_sync_request(*, tenant_id: int) -> None:
    """Ask for a seat sync soon (after commit). Never raises: a lost request is found by
    the sweep, because the account stays `pending`."""
    now = timezone.now()
    BillingAccount.objects.filter(tenant_id=tenant_id).exclude(
        seat_sync_state=BillingAccount.SeatSync.PENDING
    ).update(seat_sync_state=BillingAccount.SeatSync.PENDING, seat_sync_requested_at=now)
    transaction.on_commit(lambda: _queue(tenant_id))


def _queue(tenant_id: int) -> None:
    from billing.tasks import seat_sync_task

    countdown = settings.BILLING_SEAT_SYNC_COUNTDOWN
    try:
        # One queued task per window: later requests ride on it (it counts when it runs).
        if cache.add(_queued_key(tenant_id), 1, timeout=max(1, countdown)):
            seat_sync_task.apply_async(args=[tenant_id], countdown=countdown, retry=False)
    except Exception:  # noqa: BLE001 - Redis or broker down: the sweep re-queues it
        logger.warning("billing: seat sync for tenant %s left to the sweep", tenant_id)


def seat_sync_run(*, tenant_id: int) -> BillingAccount | None:
    """Recount and update Stripe if the count changed. Raises GatewayError on a Stripe
    failure (the task retries with back-off); the failure is recorded for operators."""
    failure = None
    with transaction.atomic():
        account = (
            BillingAccount.objects.select_for_update()
            .select_related("tenant", "plan")
            .filter(tenant_id=tenant_id)
            .first()
        )
        if account is None:
            return None
        account.seats_billable = seats_count(tenant=account.tenant)
        fields = ["seats_billable", "seat_sync_state", "updated_at"]
        try:
            if (
                gateway.enabled()
                and account.stripe_subscription_id
                and account.seats_charged != account.seats_synced
            ):
                subscription = gateway.subscription_set_items(
                    subscription_id=account.stripe_subscription_id,
                    item_id=account.stripe_item_id,
                    quantity=account.seats_charged,
                )
                account.seats_synced = subscription["quantity"]
                fields.append("seats_synced")
        except gateway.GatewayError as exc:
            account.seat_sync_state = BillingAccount.SeatSync.FAILED
            account.seat_sync_attempts += 1
            account.seat_sync_error = str(exc)[:1000]
            account.save(update_fields=[*fields, "seat_sync_attempts", "seat_sync_error"])
            failure = exc  # raised after commit, so the failure stays recorded
        if failure is None:
            _sync_done(account, fields)
    if failure is not None:
        raise failure
    return account


def _sync_done(account: BillingAccount, fields: list[str]) -> None:
    if gateway.enabled() and not account.stripe_subscription_id:
        # Not on Stripe yet: the subscription will be created with this count.
        account.seat_sync_state = BillingAccount.SeatSync.PENDING
    else:
        account.seat_sync_state = BillingAccount.SeatSync.OK
        account.seat_synced_at = timezone.now()
        account.seat_sync_attempts, account.seat_sync_error = 0, ""
        fields += ["seat_synced_at", "seat_sync_attempts", "seat_sync_error"]
    account.mrr_cents = (
        account.plan.price_per_user * account.seats_charged
        if account.status in (BillingAccount.Status.ACTIVE, BillingAccount.Status.PAST_DUE)
        else 0
    )
    account.save(update_fields=[*fields, "mrr_cents"])


def seat_sync_reconcile_all() -> int:
    """Daily: recount every live company (catches changes made outside the services)."""
    ids = list(
        BillingAccount.objects.exclude(status=BillingAccount.Status.CANCELED).values_list(
            "tenant_id", flat=True
        )
    )
    for tenant_id in ids:
        _queue(tenant_id)
    return len(ids)


def seat_sync_requeue_lost() -> int:
    """Pending syncs older than two windows lost their task (broker down): queue again."""
    cutoff = timezone.now() - timedelta(seconds=2 * settings.BILLING_SEAT_SYNC_COUNTDOWN + 30)
    ids = list(
        BillingAccount.objects.filter(
            seat_sync_state=BillingAccount.SeatSync.PENDING, seat_sync_requested_at__lte=cutoff
        ).values_list("tenant_id", flat=True)
    )
    for tenant_id in ids:
        _queue(tenant_id)
    return len(ids)
