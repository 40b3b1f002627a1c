from django.apps import AppConfig


class TenantsConfig(AppConfig):
    """Companies (tenants), their hosts, provisioning and lifecycle states."""

    name = "tenants"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from . import resolution

        resolution.connect_invalidation()
