from django.apps import AppConfig


class CrmCoreConfig(AppConfig):
    """The CRM itself: customers, contacts, leads, deals and the rest (per company schema)."""

    name = "crm_core"
    verbose_name = "CRM"

    def ready(self):
        from . import handlers

        handlers.register()
