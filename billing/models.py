"""Billing tables (public schema): plans, one billing account per company, the invoice
mirror, inbound Stripe events and the operators' audit log."""

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from crm_platform.kernel.models import TimeStampedModel


class Plan(TimeStampedModel):
    """An operator-defined plan: a monthly price per user (seat) and its limits."""

    code = models.SlugField(_("code"), max_length=40, unique=True)
    name = models.CharField(_("name"), max_length=100)
    # Minor units (cents), as Stripe counts them.
    price_per_user = models.PositiveIntegerField(_("monthly price per user (cents)"))
    currency = models.CharField(_("currency"), max_length=3, default="usd")
    trial_days = models.PositiveIntegerField(_("trial days"), default=30)
    max_users = models.PositiveIntegerField(_("max users"), null=True, blank=True)
    max_custom_fields = models.PositiveIntegerField(_("max custom fields"), null=True, blank=True)
    api_rate_per_minute = models.PositiveIntegerField(_("API requests per minute"), default=600)
    is_active = models.BooleanField(_("offered"), default=True)
    is_default = models.BooleanField(_("default for new companies"), default=False)
    stripe_product_id = models.CharField(max_length=100, blank=True)
    # A Price on Stripe; a Plan on localstripe (it has no Prices).
    stripe_price_id = models.CharField(max_length=100, blank=True)
    stripe_price_for = models.CharField(max_length=40, blank=True)  # "<amount>-<currency>"

    class Meta:
        ordering = ["price_per_user", "code"]

    def __str__(self):
        return self.name

    @property
    def price_display(self) -> str:
        return f"{self.price_per_user / 100:.2f} {self.currency.upper()}"


class BillingAccount(TimeStampedModel):
    """A company's subscription as we know it, mirrored from Stripe.

    `trial_ends_at` here is authoritative while Stripe is unreachable: the trial sweep
    ends trials from it, whatever Stripe has said (or not) so far.
    """

    class Status(models.TextChoices):
        PENDING = "pending", _("being set up")  # no Stripe subscription yet
        TRIALING = "trialing", _("free trial")
        ACTIVE = "active", _("active")
        PAST_DUE = "past_due", _("past due")
        UNPAID = "unpaid", _("unpaid")
        PAUSED = "paused", _("paused")
        INCOMPLETE = "incomplete", _("incomplete")
        CANCELED = "canceled", _("cancelled")

    class SeatSync(models.TextChoices):
        OK = "ok", _("in sync")
        PENDING = "pending", _("pending")
        FAILED = "failed", _("failing")

    tenant = models.OneToOneField(
        "tenants.Tenant", on_delete=models.CASCADE, related_name="billing_account"
    )
    plan = models.ForeignKey(Plan, on_delete=models.PROTECT, related_name="accounts")
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    trial_ends_at = models.DateTimeField(_("trial ends"), null=True, blank=True)
    current_period_end = models.DateTimeField(null=True, blank=True)
    cancel_at_period_end = models.BooleanField(default=False)
    grace_ends_at = models.DateTimeField(null=True, blank=True)
    canceled_at = models.DateTimeField(null=True, blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)  # first paid invoice
    stripe_customer_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_subscription_id = models.CharField(max_length=100, blank=True, db_index=True)
    stripe_item_id = models.CharField(max_length=100, blank=True)
    payment_method = models.CharField(_("payment method"), max_length=100, blank=True)
    setup_error = models.TextField(blank=True)
    # Seats: counted in the company's schema, `seats_synced` is what Stripe bills.
    seats_billable = models.PositiveIntegerField(default=1)
    seats_synced = models.PositiveIntegerField(null=True, blank=True)
    free_seats = models.PositiveIntegerField(_("free seats"), default=0)
    seat_sync_state = models.CharField(
        max_length=10, choices=SeatSync.choices, default=SeatSync.OK, db_index=True
    )
    seat_sync_requested_at = models.DateTimeField(null=True, blank=True)
    seat_synced_at = models.DateTimeField(null=True, blank=True)
    seat_sync_attempts = models.PositiveIntegerField(default=0)
    seat_sync_error = models.TextField(blank=True)
    # E-mails sent once per trial end / per failed invoice.
    trial_warning_for = models.DateTimeField(null=True, blank=True)
    trial_ended_for = models.DateTimeField(null=True, blank=True)
    mrr_cents = models.PositiveIntegerField(default=0)  # monthly revenue now (0 in trial)

    def __str__(self):
        return f"{self.tenant} ({self.status})"

    @property
    def seats_charged(self) -> int:
        """Seats on the Stripe subscription: billable users less operator-granted free seats."""
        return max(1, self.seats_billable - self.free_seats)

    @property
    def has_payment_method(self) -> bool:
        return bool(self.payment_method)

    @property
    def seat_sync_stuck(self) -> bool:
        if self.seat_sync_state == self.SeatSync.FAILED:
            return True
        limit = timezone.timedelta(minutes=settings.BILLING_SEAT_SYNC_STUCK_MINUTES)
        return (
            self.seat_sync_state == self.SeatSync.PENDING
            and self.seat_sync_requested_at is not None
            and timezone.now() - self.seat_sync_requested_at > limit
        )


class Invoice(models.Model):
    """Stripe invoices mirrored for the billing page, the console and the metrics."""

    account = models.ForeignKey(BillingAccount, on_delete=models.CASCADE, related_name="invoices")
    stripe_id = models.CharField(max_length=100, unique=True)
    number = models.CharField(max_length=100, blank=True)
    status = models.CharField(max_length=20)
    amount_due = models.IntegerField(default=0)
    amount_paid = models.IntegerField(default=0)
    currency = models.CharField(max_length=3, default="usd")
    hosted_url = models.URLField(max_length=500, blank=True)
    pdf_url = models.URLField(max_length=500, blank=True)
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    created = models.DateTimeField()
    paid_at = models.DateTimeField(null=True, blank=True)
    payment_failed_at = models.DateTimeField(null=True, blank=True)
    receipt_sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created", "-id"]

    def __str__(self):
        return self.number or self.stripe_id


class StripeEvent(models.Model):
    """An inbound webhook event, stored once (unique Stripe id), processed in background."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        PROCESSED = "processed", _("processed")
        IGNORED = "ignored", _("ignored")
        FAILED = "failed", _("failed")

    stripe_id = models.CharField(max_length=100, unique=True)
    type = models.CharField(max_length=100, db_index=True)
    payload = models.JSONField()
    account = models.ForeignKey(
        BillingAccount, null=True, blank=True, on_delete=models.SET_NULL, related_name="events"
    )
    status = models.CharField(
        max_length=10, choices=Status.choices, default=Status.PENDING, db_index=True
    )
    attempts = models.PositiveIntegerField(default=0)
    error = models.TextField(blank=True)
    created = models.DateTimeField()  # Stripe's timestamp
    received_at = models.DateTimeField(auto_now_add=True)
    processed_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-received_at", "-id"]

    def __str__(self):
        return f"{self.type} {self.stripe_id}"


class OperatorAction(models.Model):
    """The operators' audit log: who did what to which company, and with what."""

    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, on_delete=models.SET_NULL, related_name="operator_actions"
    )
    tenant_label = models.CharField(max_length=200)  # kept after a purge
    operator = models.CharField(max_length=254)
    action = models.CharField(max_length=40)
    details = models.JSONField(default=dict)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return f"{self.operator}: {self.action} {self.tenant_label}"


class DailySnapshot(models.Model):
    """Daily totals for the metrics charts (beat takes one a day; events with their own
    timestamps, conversions, churn and failed payments, are counted from those)."""

    day = models.DateField(unique=True)
    mrr_cents = models.BigIntegerField(default=0)
    active_tenants = models.PositiveIntegerField(default=0)
    trials = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["day"]

    def __str__(self):
        return self.day.isoformat()
