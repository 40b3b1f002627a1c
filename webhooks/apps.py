from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhook endpoints, deliveries and attempts; inbound record updates."""

    name = "webhooks"
    verbose_name = "Webhooks"

    def ready(self):
        from crm_platform.outbox import handlers as outbox_handlers

        from .services import deliveries_fan_out

        # Rows and tasks queued after commit only: a batch can go under one savepoint.
        outbox_handlers.register("*", deliveries_fan_out, transactional=True)
