from datetime import timedelta

from django.db import connection
from django.db.models.signals import post_delete, post_save
from django.utils import timezone
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework import authentication, exceptions

from crm_platform.kernel.localcache import GenerationCache
from crm_platform.kernel.models import instance_copy

from .models import ApiToken, User
from .tokens import api_token_matches, api_token_split

LAST_USED_RESOLUTION = timedelta(minutes=1)  # avoid a write on every request

# (schema, prefix) -> ApiToken with its user, or None. Any change to a token or a user
# (revocation, deactivation, role) drops it in every process (kernel.localcache).
token_cache = GenerationCache("api-tokens")


def _load_token(key):
    _schema, prefix = key
    return ApiToken.objects.select_related("user").filter(prefix=prefix).first()


def connect_invalidation() -> None:
    for model in (ApiToken, User):
        post_save.connect(
            token_cache.invalidate, sender=model, dispatch_uid=f"token-cache-save-{model.__name__}"
        )
        post_delete.connect(
            token_cache.invalidate, sender=model, dispatch_uid=f"token-cache-del-{model.__name__}"
        )


class ApiTokenAuthentication(authentication.BaseAuthentication):
    """`Authorization: Bearer crm_<prefix>_<secret>`, looked up in the host's schema only."""

    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request).decode("latin-1")
        scheme, _, raw = header.partition(" ")
        if scheme != self.keyword or not raw:
            return None
        prefix = api_token_split(raw.strip())
        token = None
        if prefix:
            token = token_cache.get((connection.schema_name, prefix), _load_token)
        if token is None or not api_token_matches(raw.strip(), token.key_hash):
            raise exceptions.AuthenticationFailed("Invalid token.")
        if not token.is_usable:
            raise exceptions.AuthenticationFailed("Token expired or revoked.")
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed("User inactive.")
        now = timezone.now()
        if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
            ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)  # no signal
            token.last_used_at = now
        # Each request gets its own copy of the cached user (views may change it).
        return instance_copy(token.user), token

    def authenticate_header(self, request):
        return self.keyword


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Describes the token in the OpenAPI document as a bearer scheme."""

    target_class = "accounts.authentication.ApiTokenAuthentication"
    name = "bearerAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "crm_<prefix>_<secret>"}
