from django.apps import AppConfig


class OutboxConfig(AppConfig):
    """The transactional outbox: events written with the change that causes them."""

    name = "crm_platform.outbox"
    label = "outbox"
