from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, billing accounts, the Stripe gateway, seat sync and dunning (public schema)."""

    name = "billing"
    verbose_name = "Billing"
