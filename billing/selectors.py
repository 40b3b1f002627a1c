"""Reads about billing: a company's billing summary and the operators' tenant list."""

from __future__ import annotations

from django.db.models import Q

from billing.models import BillingAccount, Plan
from tenants.models import Tenant


def account_for(tenant: Tenant) -> BillingAccount | None:
    return (
        BillingAccount.objects.select_related("plan", "tenant").filter(tenant_id=tenant.pk).first()
    )


def plans_offered():
    return Plan.objects.filter(is_active=True)


def billing_summary(*, tenant: Tenant) -> dict:
    """What the Billing page and API show. The next-invoice estimate is the plan's price
    times the seats charged (prorations for changes mid-period come on top)."""
    account = account_for(tenant)
    if account is None:  # the account is opened moments after signup
        return {
            "status": "pending",
            "trial_ends_at": tenant.trial_ends_at,
            "plan": None,
            "invoices": [],
        }
    plan = account.plan
    return {
        "status": account.status,
        "status_display": account.get_status_display(),
        "trial_ends_at": account.trial_ends_at,
        "current_period_end": account.current_period_end,
        "cancel_at_period_end": account.cancel_at_period_end,
        "grace_ends_at": account.grace_ends_at,
        "plan": {
            "code": plan.code,
            "name": plan.name,
            "price_per_user": plan.price_per_user,
            "currency": plan.currency,
            "price_display": plan.price_display,
            "max_users": plan.max_users,
        },
        "seats": {
            "billable": account.seats_billable,
            "free": account.free_seats,
            "charged": account.seats_charged,
            "on_subscription": account.seats_synced,
            "sync_state": account.seat_sync_state,
        },
        "next_invoice": {
            "amount": plan.price_per_user * account.seats_charged,
            "currency": plan.currency,
            "display": f"{plan.price_per_user * account.seats_charged / 100:.2f} "
            f"{plan.currency.upper()}",
            "date": account.current_period_end or account.trial_ends_at,
        },
        "payment_method": account.payment_method,
        "invoices": [
            {
                "id": invoice.stripe_id,
                "number": invoice.number,
                "status": invoice.status,
                "amount_due": invoice.amount_due,
                "amount_paid": invoice.amount_paid,
                "currency": invoice.currency,
                "created": invoice.created,
                "url": invoice.hosted_url or invoice.pdf_url,
            }
            for invoice in account.invoices.all()[:24]
        ],
    }


def tenants_for_console(*, q: str = "", status: str = "", plan: str = "", stuck: bool = False):
    """Companies with their billing account, for the console list (search and filters)."""
    qs = (
        Tenant.objects.exclude(status__in=(Tenant.Status.TEMPLATE, Tenant.Status.POOLED))
        .exclude(schema_name="public")
        .select_related("billing_account__plan")
        .order_by("-created_at")
    )
    if q:
        qs = qs.filter(
            Q(name__icontains=q)
            | Q(subdomain__icontains=q)
            | Q(billing_account__stripe_customer_id=q)
        )
    if status:
        qs = qs.filter(status=status)
    if plan:
        qs = qs.filter(billing_account__plan__code=plan)
    if stuck:
        qs = qs.filter(billing_account__seat_sync_state__in=("pending", "failed"))
    return qs


def last_activity(tenants) -> dict[str, object]:
    """The latest sign-in per company schema, in one query over the page's schemas."""
    from django.db import connection
    from psycopg import sql

    from tenants.models import validate_schema_name

    schemas = [t.schema_name for t in tenants if t.status in Tenant.LIVE_STATUSES]
    if not schemas:
        return {}
    parts = [
        sql.SQL("SELECT {name}, max(last_login) FROM {table}").format(
            name=sql.Literal(validate_schema_name(schema)),
            table=sql.Identifier(schema, "accounts_user"),
        )
        for schema in schemas
    ]
    query = sql.SQL(" UNION ALL ").join(parts)
    with connection.cursor() as cursor:
        cursor.execute(query.as_string(cursor.connection))
        return dict(cursor.fetchall())


def plan_limits(*, schema_name: str) -> dict:
    """The current company's plan limits (None = unlimited); other apps enforce theirs."""
    plan = (
        Plan.objects.filter(accounts__tenant__schema_name=schema_name)
        .values("max_users", "max_custom_fields", "api_rate_per_minute")
        .first()
    )
    return plan or {"max_users": None, "max_custom_fields": None, "api_rate_per_minute": None}


def user_limit_reached(*, schema_name: str) -> int | None:
    """The plan's user limit if active users plus open invitations have reached it."""
    from django.utils import timezone

    from accounts.models import Invitation, User

    limit = plan_limits(schema_name=schema_name)["max_users"]
    if limit is None:
        return None
    used = (
        User.objects.filter(is_active=True).count()
        + Invitation.objects.filter(
            accepted_at__isnull=True, revoked_at__isnull=True, expires_at__gt=timezone.now()
        ).count()
    )
    return limit if used >= limit else None
