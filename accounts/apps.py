from django.apps import AppConfig


class AccountsConfig(AppConfig):
    """People: users (per company schema; operators in public), roles, teams, API tokens."""

    name = "accounts"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from crm_platform.outbox import handlers

        from .authentication import connect_invalidation

        connect_invalidation()

        from .emails import send_invitation_email, send_password_reset_email

        handlers.register("user.invited", send_invitation_email)
        handlers.register("user.password_reset_requested", send_password_reset_email)
