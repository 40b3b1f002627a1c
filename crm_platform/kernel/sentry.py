import sentry_sdk
from sentry_sdk.integrations.celery import CeleryIntegration
from sentry_sdk.integrations.django import DjangoIntegration
from sentry_sdk.integrations.redis import RedisIntegration


def init_sentry(dsn: str, *, environment: str, traces_sample_rate: float) -> None:
    """Error reporting; the tenant is tagged per request (tenants.middleware) and per task."""
    sentry_sdk.init(
        dsn=dsn,
        environment=environment,
        traces_sample_rate=traces_sample_rate,
        send_default_pii=False,
        integrations=[DjangoIntegration(), CeleryIntegration(), RedisIntegration()],
    )


def tag_tenant(schema_name: str) -> None:
    sentry_sdk.set_tag("tenant", schema_name)
