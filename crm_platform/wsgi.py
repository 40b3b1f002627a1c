import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crm_platform.settings")
application = get_wsgi_application()


def _load_urlconfs() -> None:
    """Import both URL configurations (and with them every view) when a worker starts,
    not inside the first request it serves (~0.5 s on these machines)."""
    from django.conf import settings
    from django.urls import get_resolver

    for urlconf in (settings.ROOT_URLCONF, settings.PUBLIC_SCHEMA_URLCONF):
        get_resolver(urlconf).url_patterns  # noqa: B018 - the cached import is the point


_load_urlconfs()
