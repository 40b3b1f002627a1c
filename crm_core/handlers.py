"""Outbox handlers of the CRM, registered in CrmCoreConfig.ready()."""

from crm_platform.outbox import handlers


def send_notification_email(event) -> None:
    """notification.created: e-mail it to its user (once; see notification_email_send)."""
    from .services.reminders import notification_email_send

    notification_email_send(notification_id=int(event.aggregate_id))


def send_quote_email(event) -> None:
    """quote.sent: e-mail the quote's PDF (once per sending; see quote_email_send)."""
    from .services.quote_pdf import quote_email_send

    quote_email_send(quote_id=int(event.aggregate_id))


def register() -> None:
    """Register the CRM's outbox handlers (areas add theirs here)."""
    handlers.register("notification.created", send_notification_email)
    handlers.register("quote.sent", send_quote_email)
    # Quotes and contracts register what their approval decisions do, at import.
    from .services import contracts, quotes  # noqa: F401
