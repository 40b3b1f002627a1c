from django.apps import AppConfig


class CustomizationConfig(AppConfig):
    """Custom fields, layouts, field security, workflow rules and approvals (per company schema)."""

    name = "customization"
    verbose_name = "Customization"

    def ready(self):
        from .workflows import handlers as workflow_handlers

        workflow_handlers.register()
