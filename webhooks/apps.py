from django.apps import AppConfig


class WebhooksConfig(AppConfig):
    """Outbound webhook endpoints, deliveries and attempts; inbound record updates."""

    name = "webhooks"
    verbose_name = "Webhooks"
