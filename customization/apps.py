from django.apps import AppConfig


class CustomizationConfig(AppConfig):
    """Custom fields, layouts, field security, workflow rules and approvals (per company schema)."""

    name = "customization"
    verbose_name = "Customization"
