"""Inbound writes from another system: the first response per Idempotency-Key.

A retried request (same user, same key) gets the stored response instead of a second
write. The key row is inserted before the write, in the write's transaction: a concurrent
duplicate waits on the unique index, then reads the first one's response.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable

import orjson
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils.translation import gettext as _

from .models import IdempotencyKey


def request_fingerprint(payload) -> str:
    return hashlib.sha256(orjson.dumps(payload, option=orjson.OPT_SORT_KEYS)).hexdigest()


def idempotent_call(
    *, user, key: str, fingerprint: str, produce: Callable[[], tuple[int, dict]]
) -> tuple[int, dict, bool]:
    """(status, body, replayed). `produce` runs once per key, in this transaction; if it
    raises, nothing is kept (the key may be used again, e.g. after fixing the input)."""
    with transaction.atomic():
        stored = _stored(user=user, key=key, fingerprint=fingerprint)
        if stored:
            return stored
        try:
            with transaction.atomic():
                row = IdempotencyKey.objects.create(
                    user=user,
                    key=key,
                    request_hash=fingerprint,
                    response_status=0,
                    response_body={},
                )
        except IntegrityError:  # a concurrent first request committed meanwhile
            stored = _stored(user=user, key=key, fingerprint=fingerprint)
            if stored:
                return stored
            raise
        status, body = produce()
        row.response_status, row.response_body = status, body
        row.save(update_fields=["response_status", "response_body"])
    return status, body, False


def _stored(*, user, key: str, fingerprint: str) -> tuple[int, dict, bool] | None:
    row = IdempotencyKey.objects.filter(user=user, key=key).first()
    if row is None:
        return None
    if row.request_hash != fingerprint:
        raise ValidationError(
            {"idempotency_key": [_("This key was already used for a different request.")]}
        )
    return row.response_status, row.response_body, True
