import logging

from .context_vars import request_id_var, tenant_var


class ContextFilter(logging.Filter):
    """Adds the current tenant schema and request id to every log record."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.tenant = tenant_var.get()
        record.request_id = request_id_var.get()
        return True
