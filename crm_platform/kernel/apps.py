from django.apps import AppConfig


class KernelConfig(AppConfig):
    """Shared plumbing: request context, errors, API helpers, health. No domain rules."""

    name = "crm_platform.kernel"
    label = "kernel"

    def ready(self):
        from django.db.backends.signals import connection_created

        from .db import use_fast_timestamptz_loader

        connection_created.connect(
            use_fast_timestamptz_loader, dispatch_uid="fast-timestamptz-loader"
        )
