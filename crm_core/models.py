"""The CRM's records, in each company's schema.

Customers, contacts and leads are *owned records*: an owner (None = in the public pool),
a team and a region decide who sees them (crm_core.visibility). Every change of a key
field is kept in FieldHistory; every pool move in PoolMove.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from crm_platform.kernel.models import CustomizableModel, TimeStampedModel

USER = settings.AUTH_USER_MODEL


class Region(TimeStampedModel):
    """A sales region / territory."""

    name = models.CharField(_("name"), max_length=100, unique=True)

    class Meta:
        ordering = ["name"]

    def __str__(self):
        return self.name


class OwnedRecord(CustomizableModel, TimeStampedModel):
    owner = models.ForeignKey(
        USER,
        verbose_name=_("owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Public pool bookkeeping (owner is None while in the pool).
    pool_entered_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    reclaim_blocked_until = models.DateTimeField(null=True, blank=True)
    pool_warned_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        abstract = True


class Customer(OwnedRecord):
    class Kind(models.TextChoices):
        COMPANY = "company", _("company")
        INDIVIDUAL = "individual", _("individual")

    class RelationshipStage(models.TextChoices):
        POTENTIAL = "potential", _("potential")
        TARGET = "target", _("target")
        CURRENT = "current", _("current")
        LOST = "lost", pgettext_lazy("relationship stage", "lost")  # not a lost deal

    class LifecycleStage(models.TextChoices):
        EXPLORATION = "exploration", _("exploration")
        FORMATION = "formation", _("formation")
        STABILITY = "stability", _("stability")
        DECLINE = "decline", _("decline")

    class ValueTier(models.TextChoices):
        A = "A", _("platinum")
        B = "B", _("gold")
        C = "C", _("iron")
        D = "D", pgettext_lazy("value tier", "lead")  # the lowest tier, not a sales lead

    kind = models.CharField(_("type"), max_length=20, choices=Kind.choices, default=Kind.COMPANY)
    name = models.CharField(_("name"), max_length=200)
    industry = models.CharField(_("industry"), max_length=100, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    relationship_stage = models.CharField(
        _("relationship stage"),
        max_length=20,
        choices=RelationshipStage.choices,
        default=RelationshipStage.POTENTIAL,
    )
    lifecycle_stage = models.CharField(
        _("lifecycle stage"), max_length=20, choices=LifecycleStage.choices, blank=True
    )
    value_tier = models.CharField(
        _("value tier"), max_length=1, choices=ValueTier.choices, blank=True
    )
    is_key_account = models.BooleanField(_("key account"), default=False)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    website = models.URLField(_("website"), blank=True)
    birthday = models.DateField(_("birthday"), null=True, blank=True)  # individuals
    # [{"kind": "billing"|"shipping"|"office", "line1", "line2", "city", "region",
    #   "postcode", "country"}]
    addresses = models.JSONField(_("addresses"), default=list, blank=True)
    tags = ArrayField(
        models.CharField(max_length=50), verbose_name=_("tags"), default=list, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    # Normalised for duplicate detection: lowercased, spaces and punctuation removed.
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    phone_key = models.CharField(max_length=50, db_index=True, editable=False, blank=True)
    # Lowercased name, e-mails and phone digits, for substring search (trigram index).
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            GinIndex(
                name="customer_search_trgm", fields=["search_text"], opclasses=["gin_trgm_ops"]
            ),
            models.Index(fields=["owner", "-id"], name="customer_owner_idx"),
            models.Index(fields=["team", "-id"], name="customer_team_idx"),
            models.Index(fields=["email"], name="customer_email_idx"),
            GinIndex(fields=["tags"], name="customer_tags_gin"),
        ]

    def __str__(self):
        return self.name


class Contact(OwnedRecord):
    class DecisionRole(models.TextChoices):
        DECISION_MAKER = "decision_maker", _("decision maker")
        INFLUENCER = "influencer", _("influencer")
        USER = "user", _("user")
        GATEKEEPER = "gatekeeper", _("gatekeeper")
        OTHER = "other", _("other")

    class Channel(models.TextChoices):
        PHONE = "phone", _("phone")
        EMAIL = "email", _("e-mail")
        VISIT = "visit", _("visit")
        WECHAT = "wechat", _("WeChat")
        LINE = "line", _("LINE")
        OTHER = "other", _("other")

    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contacts",
    )
    name = models.CharField(_("name"), max_length=200)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    decision_role = models.CharField(
        _("decision role"), max_length=20, choices=DecisionRole.choices, blank=True
    )
    emails = ArrayField(models.EmailField(), verbose_name=_("e-mails"), default=list, blank=True)
    phones = ArrayField(
        models.CharField(max_length=50), verbose_name=_("phones"), default=list, blank=True
    )
    birthday = models.DateField(_("birthday"), null=True, blank=True)
    preferred_channel = models.CharField(
        _("preferred channel"), max_length=20, choices=Channel.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="contact_owner_idx"),
            models.Index(fields=["customer", "-id"], name="contact_customer_idx"),
            GinIndex(
                name="contact_search_trgm", fields=["search_text"], opclasses=["gin_trgm_ops"]
            ),
            GinIndex(fields=["emails"], name="contact_emails_gin"),
            GinIndex(fields=["phones"], name="contact_phones_gin"),
        ]

    def __str__(self):
        return self.name


class Lead(OwnedRecord):
    class Status(models.TextChoices):
        NEW = "new", _("new")
        CONTACTED = "contacted", _("contacted")
        QUALIFIED = "qualified", _("qualified")
        UNQUALIFIED = "unqualified", _("unqualified")
        CONVERTED = "converted", _("converted")

    class PurchaseWindow(models.TextChoices):
        NOW = "now", _("now")
        MONTHS_3 = "3m", _("within 3 months")
        MONTHS_6 = "6m", _("within 6 months")
        MONTHS_12 = "12m", _("within a year")

    name = models.CharField(_("name"), max_length=200)
    company_name = models.CharField(_("company"), max_length=200, blank=True)
    job_title = models.CharField(_("job title"), max_length=100, blank=True)
    email = models.EmailField(_("e-mail"), blank=True)
    phone = models.CharField(_("phone"), max_length=50, blank=True)
    source = models.CharField(_("source"), max_length=100, blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.NEW
    )
    # MAN qualification: money, authority, need.
    has_money = models.BooleanField(_("money"), default=False)
    has_authority = models.BooleanField(_("authority"), default=False)
    has_need = models.BooleanField(_("need"), default=False)
    purchase_window = models.CharField(
        _("purchase window"), max_length=5, choices=PurchaseWindow.choices, blank=True
    )
    notes = models.TextField(_("notes"), blank=True)
    converted_at = models.DateTimeField(null=True, blank=True)
    converted_customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    converted_deal = models.ForeignKey(
        "crm_core.Deal", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    name_key = models.CharField(max_length=200, db_index=True, editable=False)
    phone_key = models.CharField(max_length=50, db_index=True, editable=False, blank=True)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="lead_owner_idx"),
            models.Index(fields=["status", "-id"], name="lead_status_idx"),
            GinIndex(name="lead_search_trgm", fields=["search_text"], opclasses=["gin_trgm_ops"]),
        ]

    def __str__(self):
        return self.name


class Pipeline(TimeStampedModel):
    name = models.CharField(_("name"), max_length=100, unique=True)
    is_default = models.BooleanField(_("default"), default=False)
    position = models.PositiveIntegerField(default=0)

    class Meta:
        ordering = ["position", "id"]

    def __str__(self):
        return self.name


class Stage(TimeStampedModel):
    class Kind(models.TextChoices):
        OPEN = "open", _("open")
        WON = "won", _("won")
        LOST = "lost", _("lost")

    pipeline = models.ForeignKey(Pipeline, on_delete=models.CASCADE, related_name="stages")
    name = models.CharField(_("name"), max_length=100)
    position = models.PositiveIntegerField(default=0)
    probability = models.PositiveSmallIntegerField(_("probability"), default=0)  # percent
    kind = models.CharField(_("kind"), max_length=10, choices=Kind.choices, default=Kind.OPEN)

    class Meta:
        ordering = ["pipeline", "position", "id"]
        constraints = [
            models.UniqueConstraint(fields=["pipeline", "name"], name="stage_unique_name"),
            models.CheckConstraint(
                condition=models.Q(probability__lte=100), name="stage_probability_percent"
            ),
        ]

    def __str__(self):
        return self.name


class Deal(OwnedRecord):
    name = models.CharField(_("name"), max_length=200)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="deals",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deals",
    )
    pipeline = models.ForeignKey(Pipeline, on_delete=models.PROTECT, related_name="deals")
    stage = models.ForeignKey(
        Stage, verbose_name=_("stage"), on_delete=models.PROTECT, related_name="deals"
    )
    amount = models.DecimalField(_("amount"), max_digits=18, decimal_places=2, default=0)
    currency = models.CharField(_("currency"), max_length=3, default="CNY")
    expected_close_date = models.DateField(_("expected close"), null=True, blank=True)
    lost_reason = models.CharField(_("lost reason"), max_length=200, blank=True)
    stage_entered_at = models.DateTimeField(null=True, blank=True)
    closed_at = models.DateTimeField(null=True, blank=True)
    # Deal team (the owner is OwnedRecord.owner).
    finder = models.ForeignKey(
        USER,
        verbose_name=_("finder"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    delivery_owner = models.ForeignKey(
        USER,
        verbose_name=_("delivery owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    collections_owner = models.ForeignKey(
        USER,
        verbose_name=_("collections owner"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="deal_owner_idx"),
            models.Index(fields=["customer", "-id"], name="deal_customer_idx"),
            models.Index(fields=["stage", "-id"], name="deal_stage_idx"),
        ]

    def __str__(self):
        return self.name


class DealStageChange(models.Model):
    """One move of a deal between stages, with how long it sat in the previous one."""

    deal = models.ForeignKey(Deal, on_delete=models.CASCADE, related_name="stage_changes")
    from_stage = models.ForeignKey(Stage, null=True, on_delete=models.SET_NULL, related_name="+")
    to_stage = models.ForeignKey(Stage, on_delete=models.PROTECT, related_name="+")
    changed_at = models.DateTimeField()
    changed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    seconds_in_previous = models.PositiveBigIntegerField(null=True)

    class Meta:
        ordering = ["deal", "changed_at", "id"]

    def __str__(self):
        return f"{self.deal_id}: {self.from_stage_id} -> {self.to_stage_id}"


class Activity(CustomizableModel, TimeStampedModel):
    """Tasks, calls, meetings, visits and notes, linked to the records they concern."""

    class Kind(models.TextChoices):
        TASK = "task", _("task")
        CALL = "call", _("call")
        MEETING = "meeting", _("meeting")
        VISIT = "visit", _("visit")
        NOTE = "note", _("note")

    class Priority(models.TextChoices):
        LOW = "low", _("low")
        NORMAL = "normal", _("normal")
        HIGH = "high", _("high")

    kind = models.CharField(_("type"), max_length=10, choices=Kind.choices)
    subject = models.CharField(_("subject"), max_length=200)
    body = models.TextField(_("details"), blank=True)
    assignee = models.ForeignKey(
        USER,
        verbose_name=_("assignee"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    priority = models.CharField(
        _("priority"), max_length=10, choices=Priority.choices, default=Priority.NORMAL
    )
    due_at = models.DateTimeField(_("due"), null=True, blank=True)
    starts_at = models.DateTimeField(_("starts"), null=True, blank=True)
    ends_at = models.DateTimeField(_("ends"), null=True, blank=True)
    done_at = models.DateTimeField(_("done"), null=True, blank=True)
    check_in_place = models.CharField(_("check-in place"), max_length=200, blank=True)
    customer = models.ForeignKey(
        Customer, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    contact = models.ForeignKey(
        Contact, null=True, blank=True, on_delete=models.SET_NULL, related_name="activities"
    )
    lead = models.ForeignKey(
        Lead, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )
    deal = models.ForeignKey(
        Deal, null=True, blank=True, on_delete=models.CASCADE, related_name="activities"
    )

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["assignee", "due_at"], name="activity_assignee_due_idx"),
            models.Index(fields=["customer", "-id"], name="activity_customer_idx"),
            models.Index(fields=["starts_at"], name="activity_starts_idx"),
        ]

    def __str__(self):
        return self.subject


class Notification(models.Model):
    """An in-app reminder (notification centre), e-mailed too when it is due."""

    class Kind(models.TextChoices):
        FOLLOW_UP_DUE = "follow_up_due", _("follow-up due")
        TASK_DUE = "task_due", _("task due")
        BIRTHDAY = "birthday", _("birthday")
        POOL_RETURN_WARNING = "pool_return_warning", _("returning to the public pool")
        ASSIGNED = "assigned", _("assigned to you")
        AUTOMATION = "automation", _("automation")
        WEBHOOK_DISABLED = "webhook_disabled", _("webhook disabled")

    user = models.ForeignKey(USER, on_delete=models.CASCADE, related_name="notifications")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    record_type = models.CharField(max_length=20, blank=True)
    record_id = models.BigIntegerField(null=True, blank=True)
    due_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    # Makes the periodic computation idempotent: one reminder per user, kind, record, day.
    dedupe_key = models.CharField(max_length=200, unique=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["user", "read_at"], name="notification_unread_idx")]

    def __str__(self):
        return self.title


class PoolSettings(models.Model):
    """The company's public-pool rules (one row)."""

    return_after_days = models.PositiveIntegerField(
        _("return to pool after days without follow-up"), default=30
    )
    warn_days_before = models.PositiveIntegerField(_("warn days before"), default=3)
    reclaim_block_days = models.PositiveIntegerField(
        _("previous owner cannot reclaim for days"), default=7
    )
    daily_claim_limit = models.PositiveIntegerField(_("claims per rep per day"), default=20)
    max_held = models.PositiveIntegerField(_("maximum records held per rep"), default=200)
    auto_return_enabled = models.BooleanField(_("automatic return"), default=True)

    def __str__(self):
        return "pool settings"


class PoolMove(models.Model):
    """Every move of a lead or customer into, out of, or within the public pool."""

    class Action(models.TextChoices):
        CLAIM = "claim", _("claimed")
        RELEASE = "release", _("released")
        AUTO_RETURN = "auto_return", _("returned automatically")
        ASSIGN = "assign", _("assigned")

    record_type = models.CharField(max_length=20)  # "lead" | "customer"
    record_id = models.BigIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    from_user = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    to_user = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    actor = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField()

    class Meta:
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="poolmove_record_idx"),
            models.Index(fields=["actor", "action", "at"], name="poolmove_actor_idx"),
        ]

    def __str__(self):
        return f"{self.record_type}:{self.record_id} {self.action}"


class AssignmentRule(TimeStampedModel):
    """Who gets a new or released record: round-robin within a team, by region, capped."""

    class Entity(models.TextChoices):
        LEAD = "lead", _("lead")
        CUSTOMER = "customer", _("customer")

    name = models.CharField(_("name"), max_length=100)
    entity = models.CharField(_("applies to"), max_length=20, choices=Entity.choices)
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
    )
    team = models.ForeignKey(
        "accounts.Team", verbose_name=_("team"), on_delete=models.CASCADE, related_name="+"
    )
    capacity = models.PositiveIntegerField(_("maximum open records per rep"), null=True, blank=True)
    position = models.PositiveIntegerField(default=0)
    is_active = models.BooleanField(_("active"), default=True)
    last_assigned = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        ordering = ["entity", "position", "id"]

    def __str__(self):
        return self.name


class FieldChange(models.Model):
    """History of key fields (owner, stage, amount, status): who changed what, when."""

    record_type = models.CharField(max_length=20)
    record_id = models.BigIntegerField()
    field = models.CharField(max_length=50)
    old_value = models.CharField(max_length=200, blank=True)
    new_value = models.CharField(max_length=200, blank=True)
    changed_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    changed_at = models.DateTimeField()

    class Meta:
        ordering = ["-changed_at", "-id"]
        indexes = [models.Index(fields=["record_type", "record_id"], name="fieldchange_rec_idx")]

    def __str__(self):
        return f"{self.record_type}:{self.record_id}.{self.field}"


class ImportJob(TimeStampedModel):
    """An import of a CSV/XLSX file, run by a Celery task with progress and row errors."""

    class Entity(models.TextChoices):
        CUSTOMER = "customer", _("customers")
        CONTACT = "contact", _("contacts")
        LEAD = "lead", _("leads")

    class Mode(models.TextChoices):
        ALL_OR_NOTHING = "all_or_nothing", _("all or nothing")
        SKIP_BAD_ROWS = "skip_bad_rows", _("skip bad rows")

    class Dedupe(models.TextChoices):
        SKIP = "skip", _("skip duplicates")
        UPDATE = "update", _("update duplicates")
        CREATE = "create", _("create anyway")

    class Status(models.TextChoices):
        PENDING = "pending", _("waiting")
        RUNNING = "running", _("running")
        DONE = "done", _("done")
        FAILED = "failed", _("failed")

    entity = models.CharField(max_length=20, choices=Entity.choices)
    file_name = models.CharField(max_length=200)
    file_data = models.BinaryField()  # in the company's schema: no shared file storage
    mapping = models.JSONField(default=dict)  # column header -> field name
    mode = models.CharField(max_length=20, choices=Mode.choices, default=Mode.ALL_OR_NOTHING)
    dedupe = models.CharField(max_length=10, choices=Dedupe.choices, default=Dedupe.SKIP)
    dry_run = models.BooleanField(default=False)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.PENDING)
    total_rows = models.PositiveIntegerField(default=0)
    processed_rows = models.PositiveIntegerField(default=0)
    created_rows = models.PositiveIntegerField(default=0)
    updated_rows = models.PositiveIntegerField(default=0)
    skipped_rows = models.PositiveIntegerField(default=0)
    error_rows = models.PositiveIntegerField(default=0)
    errors = models.JSONField(default=list)  # [{"row": 12, "field": "email", "message": ...}]
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    finished_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
