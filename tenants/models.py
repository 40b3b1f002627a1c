import re
import secrets

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.utils.translation import gettext_lazy as _
from django_tenants.models import DomainMixin, TenantMixin

# Opaque schema names: never derived from user input. Checked again before any DDL.
SCHEMA_NAME_PATTERN = re.compile(r"^(t_[0-9a-f]{16}|tenant_template)$")
TEMPLATE_SCHEMA_NAME = "tenant_template"


def new_schema_name() -> str:
    return f"t_{secrets.token_hex(8)}"


def validate_schema_name(name: str) -> str:
    if not SCHEMA_NAME_PATTERN.match(name):
        raise ValidationError(f"invalid schema name {name!r}")
    return name


class Tenant(TenantMixin):
    """A subscribing company, with its own PostgreSQL schema."""

    class Status(models.TextChoices):
        # Internal states: the schema template and warm pool entries (no host, no users).
        TEMPLATE = "template", _("template")
        POOLED = "pooled", _("pooled")
        # Lifecycle states of a company.
        PROVISIONING = "provisioning", _("provisioning")
        TRIAL = "trial", _("free trial")
        ACTIVE = "active", _("active")
        PAST_DUE = "past_due", _("past due")
        READ_ONLY = "read_only", _("read-only")
        SUSPENDED = "suspended", _("suspended")
        CANCELLED = "cancelled", _("cancelled")

    # States in which the company's people can use the CRM (read_only: reads only).
    LIVE_STATUSES = (Status.TRIAL, Status.ACTIVE, Status.PAST_DUE, Status.READ_ONLY)

    name = models.CharField(_("company name"), max_length=200, blank=True)
    subdomain = models.CharField(_("subdomain"), max_length=30, unique=True, null=True, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.POOLED, db_index=True
    )
    trial_ends_at = models.DateTimeField(_("trial ends"), null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Owner credentials (hashed) kept only while a signup waits for its schema.
    pending_owner = models.JSONField(null=True, blank=True, editable=False)

    # Schemas are created by tenants.provisioning (template replay), never on save().
    auto_create_schema = False

    class Meta:
        indexes = [models.Index(fields=["status", "id"], name="tenant_status_idx")]

    def __str__(self):
        return self.name or self.schema_name

    @property
    def host(self) -> str:
        return f"{self.subdomain}.{settings.CRM_BASE_DOMAIN}"

    @property
    def url(self) -> str:
        port = f":{settings.CRM_PUBLIC_PORT}" if settings.CRM_PUBLIC_PORT else ""
        return f"{settings.CRM_PUBLIC_SCHEME}://{self.host}{port}"

    @property
    def is_read_only(self) -> bool:
        return self.status == self.Status.READ_ONLY


class Domain(DomainMixin):
    """A host name that resolves to a tenant (the public schema has one too)."""

    def __str__(self):
        return self.domain


class TemplateSnapshot(models.Model):
    """The SQL of the migrated template schema, replayed to build new tenant schemas.

    Keyed by the template's applied migrations, so a deploy with new migrations
    (which migrate_schemas applies to the template too) produces a new snapshot.
    """

    fingerprint = models.CharField(max_length=64, unique=True)
    sql = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)

    def __str__(self):
        return self.fingerprint[:12]
