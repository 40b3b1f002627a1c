"""Business metrics for the operator console: daily snapshots plus event counts."""

from __future__ import annotations

from datetime import date, timedelta

from django.db.models import Count, Sum
from django.db.models.functions import TruncDate
from django.utils import timezone

from billing.models import BillingAccount, DailySnapshot, Invoice
from tenants.models import Tenant

S = BillingAccount.Status


def _totals() -> dict:
    live = BillingAccount.objects.filter(tenant__status__in=Tenant.LIVE_STATUSES)
    return {
        "mrr_cents": live.aggregate(total=Sum("mrr_cents"))["total"] or 0,
        "active_tenants": live.filter(status__in=(S.ACTIVE, S.PAST_DUE)).count(),
        "trials": live.filter(status__in=(S.PENDING, S.TRIALING)).count(),
    }


def snapshot_take(*, day: date | None = None) -> DailySnapshot:
    """Record today's totals (beat, daily; taking it twice a day overwrites)."""
    snapshot, _created = DailySnapshot.objects.update_or_create(
        day=day or timezone.localdate(), defaults=_totals()
    )
    return snapshot


def _per_day(qs, field: str, since) -> dict[date, int]:
    rows = (
        qs.filter(**{f"{field}__gte": since})
        .annotate(day=TruncDate(field))
        .values("day")
        .annotate(n=Count("id"))
    )
    return {row["day"]: row["n"] for row in rows}


def metrics_series(*, days: int = 30) -> dict:
    """One point per day for each chart, today's totals live."""
    today = timezone.localdate()
    first = today - timedelta(days=days - 1)
    since = timezone.now() - timedelta(days=days)
    snapshots = {s.day: s for s in DailySnapshot.objects.filter(day__gte=first)}
    live = _totals()
    converted = _per_day(BillingAccount.objects.all(), "converted_at", since)
    churned = _per_day(BillingAccount.objects.all(), "canceled_at", since)
    failed = _per_day(Invoice.objects.all(), "payment_failed_at", since)
    series: dict[str, list] = {
        key: [] for key in ("mrr", "active", "trials", "converted", "churned", "failed")
    }
    labels = []
    for offset in range(days):
        day = first + timedelta(days=offset)
        labels.append(day)
        snap = snapshots.get(day)
        totals = live if day == today else (snap.__dict__ if snap else None)
        series["mrr"].append((totals or {}).get("mrr_cents", 0) / 100)
        series["active"].append((totals or {}).get("active_tenants", 0))
        series["trials"].append((totals or {}).get("trials", 0))
        series["converted"].append(converted.get(day, 0))
        series["churned"].append(churned.get(day, 0))
        series["failed"].append(failed.get(day, 0))
    lapsed = BillingAccount.objects.filter(
        trial_ends_at__gte=since, trial_ends_at__lte=timezone.now(), converted_at__isnull=True
    ).count()
    conversions = sum(series["converted"])
    trials_ended = conversions + lapsed
    return {
        "labels": labels,
        "series": series,
        "now": live,
        "conversion_rate": round(100 * conversions / trials_ended, 1) if trials_ended else None,
        "conversions": conversions,
        "trials_ended": trials_ended,
    }
