"""Outbound webhooks (webhooks/): network limits, retry pacing, the secrets' encryption key."""

from .core import DEBUG, TESTING
from .env import env

# Plain http:// and 127.0.0.1 receivers: only for tests and local development. Every other
# private, loopback, link-local... address stays blocked whatever these say.
WEBHOOKS_ALLOW_HTTP = env.bool("WEBHOOKS_ALLOW_HTTP", default=DEBUG or TESTING)
WEBHOOKS_ALLOW_LOOPBACK = env.bool("WEBHOOKS_ALLOW_LOOPBACK", default=TESTING)
WEBHOOKS_CONNECT_TIMEOUT = env.float("WEBHOOKS_CONNECT_TIMEOUT", default=5.0)
WEBHOOKS_TOTAL_TIMEOUT = env.float("WEBHOOKS_TOTAL_TIMEOUT", default=15.0)
WEBHOOKS_MAX_PAYLOAD_BYTES = env.int("WEBHOOKS_MAX_PAYLOAD_BYTES", default=256 * 1024)
WEBHOOKS_MAX_RESPONSE_BYTES = env.int("WEBHOOKS_MAX_RESPONSE_BYTES", default=64 * 1024)
# Multiplies every retry delay; tests shrink the 27-hour schedule to seconds.
WEBHOOKS_RETRY_SCALE = env.float("WEBHOOKS_RETRY_SCALE", default=0.002 if TESTING else 1.0)
WEBHOOKS_FAILING_DISABLE_DAYS = env.int("WEBHOOKS_FAILING_DISABLE_DAYS", default=5)
# Fernet keys (comma-separated, newest first) that encrypt signing secrets at rest.
# Unset: one key derived from SECRET_KEY (webhooks/secrets.py).
WEBHOOKS_SECRETS_KEYS = env.list("WEBHOOKS_SECRETS_KEYS", default=[])
