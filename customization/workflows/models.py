"""Rules, their versions, and the log of every evaluation and action."""

from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _

from crm_platform.kernel.models import TimeStampedModel


class WorkflowRule(TimeStampedModel):
    """A named rule on one kind of record; what it does lives in its current version."""

    class Entity(models.TextChoices):
        CUSTOMER = "customer", _("customer")
        CONTACT = "contact", _("contact")
        LEAD = "lead", _("lead")
        DEAL = "deal", _("deal")
        ACTIVITY = "activity", _("activity")

    entity = models.CharField(_("record type"), max_length=20, choices=Entity.choices)
    name = models.CharField(_("name"), max_length=200)
    description = models.TextField(_("description"), blank=True)
    is_enabled = models.BooleanField(_("enabled"), default=True)
    # Why the engine switched the rule off (a loop, a field that went away); shown to admins.
    disabled_reason = models.CharField(max_length=300, blank=True)
    current_version = models.ForeignKey(
        "WorkflowRuleVersion", null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["entity", "name", "id"]
        indexes = [models.Index(fields=["entity", "is_enabled"], name="wf_rule_entity_idx")]

    def __str__(self):
        return self.name


class WorkflowRuleVersion(models.Model):
    """An immutable snapshot of a rule: editing a rule adds a version, so every run log
    shows the exact definition that ran."""

    rule = models.ForeignKey(
        WorkflowRule,
        on_delete=models.CASCADE,
        related_name="versions",
        db_index=False,  # wf_version_unique starts with it
    )
    number = models.PositiveIntegerField()
    trigger = models.JSONField()
    conditions = models.JSONField(default=dict)
    actions = models.JSONField(default=list)
    # Actions run with this user's permissions (the admin who saved the version).
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["rule", "-number"]
        constraints = [models.UniqueConstraint(fields=["rule", "number"], name="wf_version_unique")]

    def __str__(self):
        return f"{self.rule} v{self.number}"


class WorkflowRun(models.Model):
    """One firing of a rule version on one record: the condition result with the values
    seen, then each action's outcome (WorkflowStep). Unique per firing key, so an event
    delivered twice or a sweep run twice fires once."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        WAITING = "waiting", _("waiting")
        NOT_MATCHED = "not_matched", _("conditions not met")
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        STOPPED = "stopped", _("stopped")

    rule = models.ForeignKey(
        WorkflowRule,
        on_delete=models.CASCADE,
        related_name="runs",
        db_index=False,  # wf_run_rule_idx starts with it
    )
    version = models.ForeignKey(
        WorkflowRuleVersion,
        on_delete=models.CASCADE,
        related_name="+",
        db_index=False,  # wf_run_once starts with it
    )
    record_type = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    firing_key = models.CharField(max_length=100)
    event_type = models.CharField(max_length=100, blank=True)
    actor_id = models.BigIntegerField(null=True, blank=True)
    chain_depth = models.PositiveSmallIntegerField(default=0)
    status = models.CharField(max_length=12, choices=Status.choices, default=Status.PENDING)
    matched = models.BooleanField(null=True)
    values_seen = models.JSONField(default=dict)
    next_action = models.PositiveSmallIntegerField(default=0)
    resume_at = models.DateTimeField(null=True, blank=True)
    error = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["version", "record_type", "record_id", "firing_key"],
                name="wf_run_once",
            )
        ]
        indexes = [
            models.Index(fields=["record_type", "record_id", "id"], name="wf_run_record_idx"),
            models.Index(fields=["rule", "-id"], name="wf_run_rule_idx"),
            models.Index(
                fields=["status", "resume_at"],
                name="wf_run_open_idx",
                condition=models.Q(status__in=["pending", "waiting"]),
            ),
        ]

    def __str__(self):
        return f"{self.rule} on {self.record_type}:{self.record_id}"


class WorkflowStep(models.Model):
    """One action of a run. Written in the action's own transaction, so a retried run
    skips what already happened (actions take effect at most once per run)."""

    class Status(models.TextChoices):
        SUCCEEDED = "succeeded", _("succeeded")
        FAILED = "failed", _("failed")
        WAITING = "waiting", _("waiting")

    run = models.ForeignKey(
        WorkflowRun,
        on_delete=models.CASCADE,
        related_name="steps",
        db_index=False,  # wf_step_once starts with it
    )
    index = models.PositiveSmallIntegerField()
    action_type = models.CharField(max_length=30)
    status = models.CharField(max_length=10, choices=Status.choices)
    detail = models.JSONField(default=dict)
    error = models.TextField(blank=True)
    attempts = models.PositiveSmallIntegerField(default=1)
    finished_at = models.DateTimeField(auto_now=True)
    duration_ms = models.FloatField(null=True, blank=True)

    class Meta:
        ordering = ["run", "index"]
        constraints = [models.UniqueConstraint(fields=["run", "index"], name="wf_step_once")]

    def __str__(self):
        return f"{self.run} #{self.index} {self.action_type}"


class WorkflowRoundRobin(models.Model):
    """Whose turn it is next in a team, for rules that assign owners round-robin."""

    team = models.OneToOneField("accounts.Team", on_delete=models.CASCADE, related_name="+")
    last_assigned = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    def __str__(self):
        return f"round-robin in {self.team}"


class WorkflowSweep(models.Model):
    """The time-based sweep's bookmark (one row): firings due after it are found next."""

    last_swept_at = models.DateTimeField()

    def __str__(self):
        return f"swept until {self.last_swept_at}"
