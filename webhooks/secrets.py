"""Signing secrets: generated as `whsec_<base64>`, stored encrypted, read back to sign.

They cannot be hashed like API tokens: signing needs the secret itself. Encrypting them
with a key that lives only in the environment (WEBHOOKS_SECRETS_KEYS, or one derived from
SECRET_KEY) means a copy of the database alone (a backup, a dump in a support ticket)
does not let anyone forge this company's webhooks. MultiFernet lets the key be rotated:
the first key encrypts, every listed key decrypts.
"""

import base64
import hashlib
import secrets as random_secrets
from functools import cache

from cryptography.fernet import Fernet, MultiFernet
from django.conf import settings

PREFIX = "whsec_"


def secret_generate() -> str:
    return PREFIX + base64.b64encode(random_secrets.token_bytes(32)).decode()


def secret_key_bytes(secret: str) -> bytes:
    """The HMAC key a `whsec_` secret stands for (Standard Webhooks)."""
    return base64.b64decode(secret.removeprefix(PREFIX))


@cache
def _fernet() -> MultiFernet:
    keys = list(settings.WEBHOOKS_SECRETS_KEYS)
    if not keys:
        digest = hashlib.sha256(b"webhooks.secrets:" + settings.SECRET_KEY.encode()).digest()
        keys = [base64.urlsafe_b64encode(digest).decode()]
    return MultiFernet([Fernet(key) for key in keys])


def secret_encrypt(secret: str) -> str:
    return _fernet().encrypt(secret.encode()).decode()


def secret_decrypt(token: str) -> str:
    return _fernet().decrypt(token.encode()).decode()
