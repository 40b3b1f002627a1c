from django.apps import AppConfig


class CustomizationConfig(AppConfig):
    """Custom fields, layouts, field security, workflow rules and approvals (per company schema)."""

    name = "customization"
    verbose_name = "Customization"

    def ready(self):
        from crm_platform.outbox import handlers as outbox_handlers

        from .approvals.services import approval_outcome_run
        from .workflows import handlers as workflow_handlers

        workflow_handlers.register()
        outbox_handlers.register("approval.decided", approval_outcome_run)
