"""Database connection tweaks.

Django loads `timestamptz` values with a pure-Python subclass of psycopg's loader, only to
force its own tzinfo (Django ticket #36960); on list pages that parsing costs ~14% of the
request. The connection's TimeZone is already Django's (set on connect), so psycopg's
compiled loader returns the same aware datetimes. This registers a thin loader that calls
it, per connection, with the `timezone` attribute Django compares before re-registering
its own per cursor.
"""

from django.conf import settings
from psycopg import adapters
from psycopg.adapt import Loader
from psycopg.postgres import types
from psycopg.pq import Format

_TIMESTAMPTZ_OID = types["timestamptz"].oid
_FastLoader = adapters.get_loader(_TIMESTAMPTZ_OID, Format.TEXT)  # compiled if available


class CompiledTzLoader(Loader):
    """Delegates to the compiled loader (which cannot be subclassed)."""

    timezone = None  # set per connection; Django reads it

    def __init__(self, oid, context=None):
        super().__init__(oid, context)
        self._load = _FastLoader(oid, context).load

    def load(self, data):
        return self._load(data)


def use_fast_timestamptz_loader(sender, connection, **kwargs) -> None:
    if connection.vendor != "postgresql" or not settings.USE_TZ:
        return
    loader = type("CompiledTzLoader", (CompiledTzLoader,), {"timezone": connection.timezone})
    connection.connection.adapters.register_loader(_TIMESTAMPTZ_OID, loader)
