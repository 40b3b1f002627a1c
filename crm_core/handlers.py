"""Outbox handlers of the CRM, registered in CrmCoreConfig.ready()."""


def register() -> None:
    """Register the CRM's outbox handlers (areas add theirs here)."""
