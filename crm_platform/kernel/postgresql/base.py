"""django-tenants' PostgreSQL backend, minus two statements per request.

- `SET search_path`: django-tenants forgets the connection's search path whenever a
  tenant is set, i.e. at every request, and sets it again before the first query. This
  remembers the last path issued until the server may have dropped it (closing, rollback,
  rollback to a savepoint: where django-tenants forgets it too), so setting the tenant
  the connection already has issues nothing.
- The health check (`CONN_HEALTH_CHECKS`): Django runs `SELECT 1` before the first query
  of every request on a persistent connection. A connection that finished a request
  without being closed less than `DATABASE_HEALTH_CHECK_IDLE_SECONDS` ago is taken as
  healthy; one idle for longer (when a restart or an idle timeout may have dropped it)
  is checked as before. A broken connection is still closed at the end of the request
  that found it broken (Django's `close_if_unusable_or_obsolete`).
"""

from __future__ import annotations

import time

from django.conf import settings
from django_tenants.postgresql_backend.base import DatabaseWrapper as TenantDatabaseWrapper


class DatabaseWrapper(TenantDatabaseWrapper):
    # Class defaults: django-tenants sets the public schema inside __init__.
    healthy_at: float | None = None  # monotonic time a request using it last ended well
    server_search_path: list[str] | None = None  # the last path issued, while it holds

    def set_tenant(self, tenant, include_public=True):
        # The path the server has: the tenant middleware sets the public schema before
        # the request's tenant, so the last one issued is remembered across such steps.
        if self.search_path_set_schemas is not None:
            self.server_search_path = self.search_path_set_schemas
        super().set_tenant(tenant, include_public)
        if self.server_search_path == self._get_cursor_search_paths():
            self.search_path_set_schemas = self.server_search_path

    # Where django-tenants forgets the path because the server may have dropped it.
    def close(self):
        self.server_search_path = None
        self.healthy_at = None
        super().close()

    def rollback(self):
        self.server_search_path = None
        super().rollback()

    def savepoint_rollback(self, sid):
        self.server_search_path = None
        super().savepoint_rollback(sid)

    def close_if_health_check_failed(self):
        if (
            self.connection is not None
            and self.health_check_enabled
            and not self.health_check_done
            and self.healthy_at is not None
            and time.monotonic() - self.healthy_at < settings.DATABASE_HEALTH_CHECK_IDLE_SECONDS
            and not self.connection.broken
        ):
            self.health_check_done = True
            return
        super().close_if_health_check_failed()

    def close_if_unusable_or_obsolete(self):
        # Called as a request starts and as it ends; only a request that used the
        # connection (and so checked or trusted it) vouches for it, if it stays open.
        used = self.health_check_done
        super().close_if_unusable_or_obsolete()
        if self.connection is None:
            self.healthy_at = None
        elif used:
            self.healthy_at = time.monotonic()
