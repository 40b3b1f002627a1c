"""API plumbing shared by every app: throttling, content negotiation and the one error
format.

Errors are JSON `{"error": {"code", "message", "fields"}}` with the right status.
"""

import logging

import redis
from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from rest_framework import exceptions, negotiation, throttling
from rest_framework.views import exception_handler as drf_exception_handler

logger = logging.getLogger(__name__)


class FailOpenScopedRateThrottle(throttling.ScopedRateThrottle):
    """Rate limits are counted in Redis; when it is unreachable, requests pass (logged)
    rather than every signup failing: the other checks still hold."""

    def allow_request(self, request, view):
        try:
            return super().allow_request(request, view)
        except redis.RedisError:
            logger.warning("throttle: cache unreachable, request allowed", exc_info=True)
            return True


class RememberedContentNegotiation(negotiation.DefaultContentNegotiation):
    """DRF's choice of renderer, remembered per process for each combination of the
    view's renderers, format and Accept header: matching the header's media types
    against every renderer's took ~0.05 ms of each API request, for the same answer."""

    MAX_REMEMBERED = 1_000  # Accept headers are the client's: bound what a flood costs
    _remembered: dict[tuple, tuple[int, str]] = {}

    def select_renderer(self, request, renderers, format_suffix=None):
        format_param = self.settings.URL_FORMAT_OVERRIDE
        key = (
            tuple(type(renderer) for renderer in renderers),
            format_suffix,
            request.query_params.get(format_param) if format_param else None,
            request.META.get("HTTP_ACCEPT", ""),
        )
        choice = self._remembered.get(key)
        if choice is None:
            renderer, media_type = super().select_renderer(request, renderers, format_suffix)
            if len(self._remembered) >= self.MAX_REMEMBERED:
                self._remembered.clear()
            choice = self._remembered[key] = (renderers.index(renderer), media_type)
        return renderers[choice[0]], choice[1]


def _flatten(detail) -> dict[str, list[str]]:
    if isinstance(detail, dict):
        return {
            field: [str(m) for m in (msgs if isinstance(msgs, list) else [msgs])]
            for field, msgs in detail.items()
        }
    return {}


def exception_handler(exc, context):
    if isinstance(exc, DjangoValidationError):
        exc = exceptions.ValidationError(
            exc.message_dict if hasattr(exc, "error_dict") else {"non_field_errors": exc.messages}
        )
    elif isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, PermissionDenied):
        exc = exceptions.PermissionDenied()
    response = drf_exception_handler(exc, context)
    if response is None:
        return None
    fields = _flatten(exc.detail) if isinstance(exc, exceptions.ValidationError) else {}
    if isinstance(exc, exceptions.ValidationError):
        code, message = "invalid", "Some fields are invalid."
        if list(fields) == ["non_field_errors"]:
            message = fields["non_field_errors"][0]
    else:
        code = exc.get_codes() if isinstance(exc.get_codes(), str) else "error"
        message = str(exc.detail)
    response.data = {"error": {"code": code, "message": message, "fields": fields}}
    return response
