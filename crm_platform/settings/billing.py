"""Billing: Stripe. Off until STRIPE_API_KEY is set (companies still get a local trial)."""

from .env import env

STRIPE_API_KEY = env.str("STRIPE_API_KEY", default="")
STRIPE_WEBHOOK_SECRET = env.str("STRIPE_WEBHOOK_SECRET", default="")
# Another API host, e.g. localstripe in tests ("" = Stripe itself).
STRIPE_API_BASE = env.str("STRIPE_API_BASE", default="")
# localstripe speaks an older API: Plans instead of Prices, no trialing status, no
# Checkout; the gateway adapts when this is on.
STRIPE_LOCALSTRIPE = env.bool("STRIPE_LOCALSTRIPE", default=False)
# Signed webhook timestamps older (or further in the future) than this are refused.
STRIPE_WEBHOOK_TOLERANCE_SECONDS = env.int("STRIPE_WEBHOOK_TOLERANCE_SECONDS", default=300)
BILLING_CURRENCY = env.str("BILLING_CURRENCY", default="usd")
# Days a past-due company keeps full access before it becomes read-only.
BILLING_GRACE_DAYS = env.int("BILLING_GRACE_DAYS", default=7)
# Days a cancelled company's data is kept (export allowed) before an operator may purge it.
BILLING_RETENTION_DAYS = env.int("BILLING_RETENTION_DAYS", default=30)
# Seat changes within this many seconds are sent to Stripe as one update.
BILLING_SEAT_SYNC_COUNTDOWN = env.int("BILLING_SEAT_SYNC_COUNTDOWN", default=30)
# A seat sync pending longer than this is shown to operators as stuck.
BILLING_SEAT_SYNC_STUCK_MINUTES = env.int("BILLING_SEAT_SYNC_STUCK_MINUTES", default=15)
# localstripe has no hosted card page: this test payment method is attached instead.
STRIPE_TEST_PAYMENT_METHOD = env.str("STRIPE_TEST_PAYMENT_METHOD", default="pm_card_visa")
