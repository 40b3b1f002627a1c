"""Custom field definitions, field security, layouts and the definitions' audit log
(one set per company schema)."""

from django.conf import settings
from django.db import models
from django.utils.translation import get_language
from django.utils.translation import gettext_lazy as _

from crm_platform.kernel.models import TimeStampedModel

# An API name: lowercase ASCII, starts with a letter; also the key in the JSONB column and
# part of index names, so it is checked against this pattern before any DDL.
API_NAME_PATTERN = r"^[a-z][a-z0-9_]{0,39}$"


class FieldType(models.TextChoices):
    TEXT = "text", _("Text")
    LONG_TEXT = "long_text", _("Long text")
    INTEGER = "integer", _("Integer")
    DECIMAL = "decimal", _("Decimal")
    CURRENCY = "currency", _("Currency")
    PERCENT = "percent", _("Percent")
    DATE = "date", _("Date")
    DATETIME = "datetime", _("Date and time")
    BOOLEAN = "boolean", _("Yes/no")
    PICKLIST = "picklist", _("Picklist")
    MULTI_SELECT = "multi_select", _("Multi-select")
    EMAIL = "email", _("E-mail")
    PHONE = "phone", _("Phone")
    URL = "url", _("URL")
    LOOKUP = "lookup", _("Lookup")
    USER = "user", _("User")


class IndexState(models.TextChoices):
    NONE = "none", _("No index")
    PENDING = "pending", _("Waiting to be built")
    BUILDING = "building", _("Being built")
    READY = "ready", _("Ready")
    FAILED = "failed", _("Failed")


class FieldDefinition(TimeStampedModel):
    """One custom field of one entity (a customizable model, see registry.py)."""

    entity = models.CharField(max_length=40)
    api_name = models.CharField(max_length=40)
    label = models.CharField(max_length=100)
    # {"zh-hans": "...", "ja": "..."}; `label` is the fallback.
    label_translations = models.JSONField(default=dict, blank=True)
    field_type = models.CharField(max_length=20, choices=FieldType.choices)
    required = models.BooleanField(default=False)
    unique = models.BooleanField(default=False)
    default = models.JSONField(null=True, blank=True)
    help_text = models.CharField(max_length=300, blank=True)
    min_value = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    max_value = models.DecimalField(max_digits=30, decimal_places=10, null=True, blank=True)
    max_length = models.PositiveIntegerField(null=True, blank=True)
    pattern = models.CharField(max_length=200, blank=True)
    decimal_places = models.PositiveSmallIntegerField(default=2)
    currency = models.CharField(max_length=3, blank=True)
    lookup_entity = models.CharField(max_length=40, blank=True)
    # Picklist values in display order: [{"value", "label", "color", "active"}].
    choices = models.JSONField(default=list, blank=True)
    position = models.PositiveIntegerField(default=0)
    filterable = models.BooleanField(default=False)
    index_state = models.CharField(
        max_length=10, choices=IndexState.choices, default=IndexState.NONE
    )
    index_error = models.TextField(blank=True)
    archived_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["entity", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["entity", "api_name"], name="uniq_field_api_name")
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.api_name}"

    @property
    def display_label(self) -> str:
        language = (get_language() or "").lower()
        return self.label_translations.get(language) or self.label

    @property
    def active_choices(self) -> list[dict]:
        return [choice for choice in self.choices if choice.get("active", True)]


class FieldAccess(models.TextChoices):
    HIDDEN = "hidden", _("Hidden")
    READ_ONLY = "read_only", _("Read-only")


class FieldSecurity(models.Model):
    """What one role may do with one field (standard or custom) of an entity; no row
    means full access."""

    entity = models.CharField(max_length=40)
    field = models.CharField(max_length=60)
    role = models.CharField(max_length=20)
    access = models.CharField(max_length=10, choices=FieldAccess.choices)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["entity", "field", "role"], name="uniq_field_security")
        ]

    def __str__(self) -> str:
        return f"{self.entity}.{self.field}: {self.role} {self.access}"


class Layout(TimeStampedModel):
    """An entity's form/detail sections ([{"title", "fields"}]) and list columns."""

    entity = models.CharField(max_length=40, unique=True)
    sections = models.JSONField(default=list, blank=True)
    list_columns = models.JSONField(default=list, blank=True)

    def __str__(self) -> str:
        return f"layout of {self.entity}"


class DefinitionChange(models.Model):
    """The audit log of custom field definitions (who changed what, when)."""

    entity = models.CharField(max_length=40)
    api_name = models.CharField(max_length=40)
    action = models.CharField(max_length=20)
    changes = models.JSONField(default=dict, blank=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL
    )
    at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-at", "-id"]

    def __str__(self) -> str:
        return f"{self.entity}.{self.api_name} {self.action}"


# Workflow rules' models live with the engine; importing them registers them here.
from .approvals.models import ApprovalProcess  # noqa: E402, F401
from .workflows.models import (  # noqa: E402, F401
    WorkflowRoundRobin,
    WorkflowRule,
    WorkflowRuleVersion,
    WorkflowRun,
    WorkflowStep,
    WorkflowSweep,
)
