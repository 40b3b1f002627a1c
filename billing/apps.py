from django.apps import AppConfig


class BillingConfig(AppConfig):
    """Plans, billing accounts, the Stripe gateway, seat sync and dunning (public schema)."""

    name = "billing"
    verbose_name = "Billing"

    def ready(self):
        from crm_platform.outbox import handlers

        from . import emails, hooks

        # A new company gets its billing account; user changes may change its seats.
        handlers.register("tenant.created", hooks.on_tenant_created)
        handlers.register("user.joined", hooks.on_users_changed)
        handlers.register("user.updated", hooks.on_users_changed)
        for kind in ("trial_ending", "trial_ended", "payment_failed", "payment_receipt"):
            handlers.register(f"billing.{kind}", emails.send_billing_email)
