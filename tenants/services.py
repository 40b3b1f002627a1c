"""Writes about companies: signup, background provisioning, lifecycle."""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass
from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.hashers import make_password
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.services import api_token_create, user_create_owner
from accounts.tokens import api_token_generate
from crm_platform.outbox.services import outbox_record

from .models import Domain, Tenant, new_schema_name
from .provisioning import pool_claim, schema_create_from_template

logger = logging.getLogger(__name__)

SUBDOMAIN_PATTERN = re.compile(r"^[a-z0-9](?:[a-z0-9-]{1,28})[a-z0-9]$")
RESERVED_SUBDOMAINS = frozenset(
    {
        "www",
        "api",
        "admin",
        "app",
        "static",
        "media",
        "mail",
        "smtp",
        "imap",
        "pop",
        "ftp",
        "ns1",
        "ns2",
        "dns",
        "mx",
        "webmail",
        "support",
        "help",
        "status",
        "billing",
        "docs",
        "blog",
        "dev",
        "staging",
        "test",
        "demo-public",
        "public",
        "assets",
        "cdn",
        "auth",
        "login",
        "signup",
        "account",
        "accounts",
        "dashboard",
        "console",
        "operator",
        "root",
        "system",
        "internal",
        "template",
        "tenant",
        "tenants",
        "localhost",
    }
)


@dataclass(frozen=True)
class SignupResult:
    tenant: Tenant
    api_token: str
    owner_email: str


def _clean_signup(*, company_name: str, subdomain: str, email: str, password: str) -> dict:
    errors: dict[str, list[str]] = {}
    company_name = (company_name or "").strip()
    subdomain = (subdomain or "").strip().lower()
    email = (email or "").strip().lower()
    if not company_name:
        errors["company_name"] = [_("Enter your company's name.")]
    elif len(company_name) > 200:
        errors["company_name"] = [_("At most 200 characters.")]
    if not SUBDOMAIN_PATTERN.match(subdomain) or "--" in subdomain:
        errors["subdomain"] = [
            _(
                "3 to 30 characters: lowercase letters, digits and hyphens, "
                "not starting or ending with a hyphen."
            )
        ]
    elif subdomain in RESERVED_SUBDOMAINS:
        errors["subdomain"] = [_("This subdomain is reserved.")]
    elif Tenant.objects.filter(subdomain=subdomain).exists():
        errors["subdomain"] = [_("This subdomain is already taken.")]
    try:
        validate_email(email)
    except ValidationError:
        errors["email"] = [_("Enter a valid e-mail address.")]
    try:
        validate_password(password or "", User(email=email, full_name=company_name))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    return {"company_name": company_name, "subdomain": subdomain, "email": email}


def tenant_signup(
    *, company_name: str, subdomain: str, email: str, password: str, language: str = ""
) -> SignupResult:
    """Create a company on a free trial with its owner and an API token for the owner.

    Claims a pre-built schema from the warm pool (no migrations in the request). With the
    pool empty, the company is created in state `provisioning` and its schema is built in
    the background. Two signups racing for one subdomain: the unique index lets exactly
    one commit; the other is rolled back whole (its claimed schema returns to the pool).
    """
    clean = _clean_signup(
        company_name=company_name, subdomain=subdomain, email=email, password=password
    )
    try:
        result = _signup_transaction(**clean, password=password, language=language)
    except IntegrityError:
        raise ValidationError({"subdomain": [_("This subdomain is already taken.")]}) from None
    transaction.on_commit(_after_signup(result.tenant))
    return result


@transaction.atomic
def _signup_transaction(*, company_name, subdomain, email, password, language) -> SignupResult:
    trial_ends_at = timezone.now() + timedelta(days=settings.TENANT_TRIAL_DAYS)
    tenant = pool_claim()
    claimed = tenant is not None
    if claimed:
        tenant.status = Tenant.Status.TRIAL
    else:
        tenant = Tenant(schema_name=new_schema_name(), status=Tenant.Status.PROVISIONING)
    tenant.name, tenant.subdomain, tenant.trial_ends_at = company_name, subdomain, trial_ends_at
    if claimed:
        tenant.save(update_fields=["name", "subdomain", "status", "trial_ends_at", "updated_at"])
        Domain.objects.create(domain=tenant.host, tenant=tenant, is_primary=True)
        with tenant_context(tenant):
            owner = user_create_owner(email=email, password=password, language=language)
            _token, raw = api_token_create(user=owner, name="Signup")
            _record_created(tenant, owner.email)
    else:
        raw, prefix, key_hash = api_token_generate()
        tenant.pending_owner = {
            "email": email,
            "password": make_password(password),
            "language": language,
            "token": [prefix, key_hash],
        }
        tenant.save()
        Domain.objects.create(domain=tenant.host, tenant=tenant, is_primary=True)
    return SignupResult(tenant=tenant, api_token=raw, owner_email=email)


def _record_created(tenant: Tenant, owner_email: str) -> None:
    outbox_record(
        event_type="tenant.created",
        aggregate_type="tenant",
        aggregate_id=tenant.schema_name,
        payload={
            "name": tenant.name,
            "subdomain": tenant.subdomain,
            "owner_email": owner_email,
            "trial_ends_at": tenant.trial_ends_at.isoformat(),
        },
    )


def _after_signup(tenant: Tenant):
    def queue():
        from . import tasks

        try:
            if tenant.status == Tenant.Status.PROVISIONING:
                tasks.tenant_provision_task.apply_async(args=[tenant.pk], retry=False)
            tasks.pool_refill_task.apply_async(retry=False)
        except Exception:  # noqa: BLE001 - beat's sweep picks the work up later
            logger.warning(
                "signup: broker unavailable, background work left to beat", exc_info=True
            )

    return queue


def tenant_provision(*, tenant_id: int) -> Tenant | None:
    """Build the schema of a company that signed up while the pool was empty."""
    with transaction.atomic():
        tenant = (
            Tenant.objects.select_for_update(skip_locked=True)
            .filter(pk=tenant_id, status=Tenant.Status.PROVISIONING)
            .first()
        )
        if tenant is None:
            return None  # done already, or another worker has it
        schema_create_from_template(tenant.schema_name)
        owner_data = tenant.pending_owner or {}
        with tenant_context(tenant):
            owner = user_create_owner(
                email=owner_data["email"],
                password_hash=owner_data["password"],
                language=owner_data.get("language", ""),
            )
            api_token_create(user=owner, name="Signup", key=tuple(owner_data["token"]))
            _record_created(tenant, owner.email)
        tenant.status, tenant.pending_owner = Tenant.Status.TRIAL, None
        tenant.save(update_fields=["status", "pending_owner", "updated_at"])
    logger.info("tenant %s provisioned in the background", tenant.schema_name)
    return tenant


def public_site_ensure() -> Tenant:
    """The public schema's tenant row and host (CRM_BASE_DOMAIN): signup and admin live there."""
    public, _created = Tenant.objects.get_or_create(
        schema_name=settings.PUBLIC_SCHEMA_NAME,
        defaults={"name": "Public", "status": Tenant.Status.ACTIVE},
    )
    Domain.objects.get_or_create(
        domain=settings.CRM_BASE_DOMAIN, defaults={"tenant": public, "is_primary": True}
    )
    return public


def tenant_set_status(
    *, tenant: Tenant, status: str, trial_ends_at: datetime | None = None
) -> Tenant:
    """Move a company to another lifecycle state (operators, billing)."""
    if status not in Tenant.Status.values or status in (
        Tenant.Status.TEMPLATE,
        Tenant.Status.POOLED,
    ):
        raise ValidationError({"status": [_("Unknown status.")]})
    tenant.status = status
    fields = ["status", "updated_at"]
    if trial_ends_at is not None:
        tenant.trial_ends_at = trial_ends_at
        fields.append("trial_ends_at")
    tenant.save(update_fields=fields)
    return tenant
