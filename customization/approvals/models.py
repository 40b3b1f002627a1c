"""An approval process: which records need a decision, who decides in which order, and
what happens after. Requests (crm_core.ApprovalRequest) copy the steps when they start,
so editing a process never changes a request already under way."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_platform.kernel.models import TimeStampedModel


class ApprovalProcess(TimeStampedModel):
    class Entity(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        CONTACT = "contact", _("contact")
        LEAD = "lead", _("lead")
        DEAL = "deal", _("deal")
        QUOTE = "quote", _("quote")

    entity = models.CharField(_("record type"), max_length=20, choices=Entity.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # Why it was switched off (a field it uses was archived); shown to admins.
    disabled_reason = models.CharField(max_length=300, blank=True)
    # The first enabled process (lowest position) whose entry criteria match applies.
    position = models.PositiveIntegerField(_("order"), default=0)
    template = models.CharField(max_length=30, blank=True)  # the ready template it came from
    conditions = models.JSONField(default=dict)  # entry criteria: a workflow condition tree
    # [{"name", "approvers": "owner_manager" | "role:<role>" | "users", "users": [ids],
    #   "mode": "any" | "all"}]
    steps = models.JSONField(default=list)
    on_approved = models.JSONField(default=list)  # workflow actions
    on_rejected = models.JSONField(default=list)
    remind_after_hours = models.PositiveIntegerField(
        _("remind approvers after hours"), default=24
    )  # 0: no reminders
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["entity", "position", "id"]

    def __str__(self):
        return self.name
