from django.apps import AppConfig


class KernelConfig(AppConfig):
    """Shared plumbing: request context, errors, API helpers, health. No domain rules."""

    name = "crm_platform.kernel"
    label = "kernel"
