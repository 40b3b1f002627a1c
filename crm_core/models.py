"""The CRM's records, in each company's schema.

Customers, contacts and leads are *owned records*: an owner (None = in the public pool),
a team and a region decide who sees them (crm_core.visibility). Every change of a key
field is kept in FieldHistory; every pool move in PoolMove.
"""

from django.conf import settings
from django.contrib.postgres.fields import ArrayField
from django.contrib.postgres.indexes import GinIndex
from django.db import models
from django.db.models.functions import Upper
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
        db_index=False,  # each owned record's <type>_owner_idx starts with it
    )
    team = models.ForeignKey(
        "accounts.Team",
        verbose_name=_("team"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # each owned record's <type>_team_idx starts with it
    )
    region = models.ForeignKey(
        Region,
        verbose_name=_("region"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    # No index on created_by and previous_owner: no query selects records by them, and
    # people are deactivated, never deleted (accounts.services), so the one use of such
    # an index, setting these to NULL when a user row goes, is not worth its cost on
    # every insert (a deletion from the shell still works, by a scan).
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
    )
    # Public pool bookkeeping (owner is None while in the pool).
    pool_entered_at = models.DateTimeField(null=True, blank=True)
    last_activity_at = models.DateTimeField(_("last follow-up"), null=True, blank=True)
    previous_owner = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+", db_index=False
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
    # Matched by equality only: a plain btree in Meta.indexes (db_index=True would add
    # a varchar_pattern_ops index for LIKE that no query uses, at a cost on every insert).
    name_key = models.CharField(max_length=200, editable=False)
    phone_key = models.CharField(max_length=50, editable=False, blank=True)
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
            # Duplicate checks match e-mails case-insensitively (UPPER(email) = ...).
            models.Index(Upper("email"), name="customer_email_upper_idx"),
            models.Index(fields=["name_key"], name="customer_name_key_idx"),
            models.Index(fields=["phone_key"], name="customer_phone_key_idx"),
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
        db_index=False,  # contact_customer_idx starts with it
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
    name_key = models.CharField(max_length=200, editable=False)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="contact_owner_idx"),
            models.Index(fields=["team", "-id"], name="contact_team_idx"),
            models.Index(fields=["customer", "-id"], name="contact_customer_idx"),
            GinIndex(
                name="contact_search_trgm", fields=["search_text"], opclasses=["gin_trgm_ops"]
            ),
            GinIndex(fields=["emails"], name="contact_emails_gin"),
            GinIndex(fields=["phones"], name="contact_phones_gin"),
            models.Index(fields=["name_key"], name="contact_name_key_idx"),
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
    name_key = models.CharField(max_length=200, editable=False)
    phone_key = models.CharField(max_length=50, editable=False, blank=True)
    search_text = models.TextField(editable=False, default="")

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["owner", "-id"], name="lead_owner_idx"),
            models.Index(fields=["team", "-id"], name="lead_team_idx"),
            models.Index(fields=["status", "-id"], name="lead_status_idx"),
            GinIndex(name="lead_search_trgm", fields=["search_text"], opclasses=["gin_trgm_ops"]),
            models.Index(Upper("email"), name="lead_email_upper_idx"),
            models.Index(fields=["name_key"], name="lead_name_key_idx"),
            models.Index(fields=["phone_key"], name="lead_phone_key_idx"),
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

    pipeline = models.ForeignKey(
        Pipeline,
        on_delete=models.CASCADE,
        related_name="stages",
        db_index=False,  # stage_unique_name starts with it
    )
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
        db_index=False,  # deal_customer_idx starts with it
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
        Stage,
        verbose_name=_("stage"),
        on_delete=models.PROTECT,
        related_name="deals",
        db_index=False,  # deal_stage_idx starts with it
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
            models.Index(fields=["team", "-id"], name="deal_team_idx"),
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
        db_index=False,  # activity_assignee_due_idx starts with it
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
        Customer,
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="activities",
        db_index=False,  # activity_customer_idx starts with it
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
        APPROVAL = "approval", _("approval")
        PAYMENT_DUE = "payment_due", _("payment due")
        CONTRACT_DATE = "contract_date", _("contract date")

    user = models.ForeignKey(
        USER,
        on_delete=models.CASCADE,
        related_name="notifications",
        db_index=False,  # notification_unread_idx starts with it
    )
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
    actor = models.ForeignKey(
        USER,
        null=True,
        on_delete=models.SET_NULL,
        related_name="+",
        db_index=False,  # poolmove_actor_idx starts with it
    )
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


# --- Lead to cash: products, price lists, quotes, contracts, orders, invoices ----------
# Money is Decimal with 3 decimal places stored (enough for every ISO 4217 currency);
# amounts are rounded to the currency's minor unit by crm_core.money before saving.

MONEY = {"max_digits": 18, "decimal_places": 3}
QUANTITY = {"max_digits": 14, "decimal_places": 3}
PERCENT = {"max_digits": 7, "decimal_places": 4}


class Product(TimeStampedModel):
    code = models.CharField(_("code"), max_length=50, unique=True)
    name = models.CharField(_("name"), max_length=200)
    unit = models.CharField(_("unit"), max_length=20, default="pcs")
    category = models.CharField(_("category"), max_length=100, blank=True)
    description = models.TextField(_("description"), blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["code"]

    def __str__(self):
        return f"{self.code} · {self.name}"


class PriceList(TimeStampedModel):
    """Prices in one currency, valid between two dates; with a customer, only theirs."""

    name = models.CharField(_("name"), max_length=100)
    currency = models.CharField(_("currency"), max_length=3)
    valid_from = models.DateField(_("valid from"), null=True, blank=True)
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    customer = models.ForeignKey(
        Customer,
        verbose_name=_("customer"),
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="price_lists",
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        ordering = ["currency", "name", "id"]

    def __str__(self):
        return f"{self.name} ({self.currency})"


class PriceListItem(models.Model):
    price_list = models.ForeignKey(
        PriceList,
        on_delete=models.CASCADE,
        related_name="items",
        db_index=False,  # price_item_unique starts with it
    )
    product = models.ForeignKey(
        Product, verbose_name=_("product"), on_delete=models.CASCADE, related_name="+"
    )
    unit_price = models.DecimalField(_("unit price"), **MONEY)

    class Meta:
        ordering = ["price_list", "product__code"]
        constraints = [
            models.UniqueConstraint(fields=["price_list", "product"], name="price_item_unique")
        ]

    def __str__(self):
        return f"{self.price_list_id}:{self.product_id}"


class SalesSettings(models.Model):
    """The company's lead-to-cash rules (one row)."""

    default_tax_rate = models.DecimalField(_("default tax rate (%)"), **PERCENT, default=0)
    quote_validity_days = models.PositiveIntegerField(_("quote valid for days"), default=30)
    payment_terms_days = models.PositiveIntegerField(_("payment terms (days)"), default=30)
    remind_days_before_due = models.PositiveIntegerField(
        _("remind days before a due date"), default=3
    )
    remind_days_before_contract_end = models.PositiveIntegerField(
        _("remind days before a contract ends or renews"), default=30
    )

    def __str__(self):
        return "sales settings"


class NumberSequence(models.Model):
    """Per-company document numbers; the row is locked while a number is taken, so
    numbers never repeat or skip (a rolled-back transaction gives its number back)."""

    kind = models.CharField(max_length=20, unique=True)
    last_value = models.PositiveBigIntegerField(default=0)

    def __str__(self):
        return f"{self.kind}:{self.last_value}"


class ApprovalRequest(TimeStampedModel):
    """A request for a decision on one record (keyed by type and id), e.g. a quote's
    discount, a contract's review or a large deal. It goes through its steps in order
    (each decided by any one or all of its approvers); the record is locked while a
    request is pending. Every request and decision is kept: the record's approval history."""

    class Status(models.TextChoices):
        PENDING = "pending", _("pending")
        APPROVED = "approved", _("approved")
        REJECTED = "rejected", _("rejected")
        CANCELLED = "cancelled", _("cancelled")

    record_type = models.CharField(max_length=30)
    record_id = models.BigIntegerField()
    rule = models.CharField(max_length=50)  # why it is needed: "quote_discount", ...
    process = models.ForeignKey(
        "customization.ApprovalProcess",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="requests",
    )
    reason = models.CharField(_("reason"), max_length=500, blank=True)
    status = models.CharField(
        _("status"), max_length=10, choices=Status.choices, default=Status.PENDING
    )
    requested_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    # The steps as they were when the request started (see ApprovalProcess.steps).
    steps = models.JSONField(default=list)
    step_index = models.PositiveSmallIntegerField(default=0)
    # Who decides the current step, resolved when the step starts.
    approver_ids = ArrayField(models.BigIntegerField(), default=list, blank=True)
    step_started_at = models.DateTimeField(null=True, blank=True)
    remind_after_hours = models.PositiveIntegerField(default=24)
    reminded_at = models.DateTimeField(null=True, blank=True)
    decided_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    decided_at = models.DateTimeField(null=True, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    # What the process's outcome actions did: {"at": ..., "steps": [{type, status, ...}]}.
    outcome = models.JSONField(default=dict, blank=True)

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["record_type", "record_id"], name="approval_record_idx"),
            GinIndex(
                fields=["approver_ids"],
                name="approval_approvers_idx",
                condition=models.Q(status="pending"),
            ),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["record_type", "record_id"],
                condition=models.Q(status="pending"),
                name="approval_one_pending",
            )
        ]

    def __str__(self):
        return f"{self.record_type}:{self.record_id} {self.status}"

    @property
    def step(self) -> dict:
        return self.steps[self.step_index] if self.step_index < len(self.steps) else {}


class ApprovalDecision(models.Model):
    """One approver's decision on one step of a request."""

    request = models.ForeignKey(ApprovalRequest, on_delete=models.CASCADE, related_name="decisions")
    step_index = models.PositiveSmallIntegerField()
    user = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    approved = models.BooleanField()
    comment = models.TextField(blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["request", "id"]

    def __str__(self):
        return f"{self.request_id} step {self.step_index}: {self.approved}"


class SalesDocument(TimeStampedModel):
    """What quotes, contracts, orders and invoices share: a number, a customer, the deal
    it came from, a currency, and an owner and team that decide who sees it."""

    number = models.CharField(_("number"), max_length=30)
    customer = models.ForeignKey(
        Customer, verbose_name=_("customer"), on_delete=models.PROTECT, related_name="+"
    )
    currency = models.CharField(_("currency"), max_length=3)
    owner = models.ForeignKey(
        USER, verbose_name=_("owner"), null=True, on_delete=models.SET_NULL, related_name="+"
    )
    team = models.ForeignKey(
        "accounts.Team", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    created_by = models.ForeignKey(
        USER, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )

    class Meta:
        abstract = True


class SalesLine(models.Model):
    """A quote's or order's line: a product or free text, with its amounts."""

    position = models.PositiveIntegerField(default=0)
    product = models.ForeignKey(
        Product,
        verbose_name=_("product"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    description = models.CharField(_("description"), max_length=300)
    quantity = models.DecimalField(_("quantity"), **QUANTITY)
    unit_price = models.DecimalField(_("unit price"), **MONEY)
    discount_percent = models.DecimalField(_("discount (%)"), **PERCENT, default=0)
    tax_rate = models.DecimalField(_("tax rate (%)"), **PERCENT, default=0)
    net_amount = models.DecimalField(_("amount"), **MONEY, default=0)  # after line discount

    class Meta:
        abstract = True
        ordering = ["position", "id"]

    def __str__(self):
        return self.description


class Quote(SalesDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        PENDING_APPROVAL = "pending_approval", _("pending approval")
        APPROVED = "approved", _("approved")
        SENT = "sent", _("sent")
        ACCEPTED = "accepted", _("accepted")
        REJECTED = "rejected", pgettext_lazy("quote status", "rejected")
        EXPIRED = "expired", _("expired")

    class Language(models.TextChoices):
        EN = "en", "English"
        ZH_HANS = "zh-hans", "简体中文"
        JA = "ja", "日本語"

    version = models.PositiveIntegerField(_("version"), default=1)
    previous = models.ForeignKey(
        "self", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    is_current = models.BooleanField(default=True)  # the latest version of its number
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="quotes",
    )
    contact = models.ForeignKey(
        Contact,
        verbose_name=_("contact"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    price_list = models.ForeignKey(
        PriceList,
        verbose_name=_("price list"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    language = models.CharField(
        _("language"), max_length=10, choices=Language.choices, default=Language.EN
    )
    valid_until = models.DateField(_("valid until"), null=True, blank=True)
    total_discount_percent = models.DecimalField(_("total discount (%)"), **PERCENT, default=0)
    gross_amount = models.DecimalField(_("list amount"), **MONEY, default=0)
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=0)  # after line discounts
    total_discount = models.DecimalField(_("total discount"), **MONEY, default=0)
    tax_amount = models.DecimalField(_("tax"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)
    effective_discount_percent = models.DecimalField(**PERCENT, default=0)
    terms = models.TextField(_("terms"), blank=True)
    sent_at = models.DateTimeField(_("sent"), null=True, blank=True)
    sent_to = models.EmailField(blank=True)
    emailed_at = models.DateTimeField(null=True, blank=True)
    decided_at = models.DateTimeField(null=True, blank=True)  # accepted or rejected

    class Meta:
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["number", "version"], name="quote_number_version")
        ]
        indexes = [
            models.Index(fields=["owner", "-id"], name="quote_owner_idx"),
            models.Index(fields=["status", "valid_until"], name="quote_status_idx"),
        ]

    def __str__(self):
        return f"{self.number} v{self.version}"


class QuoteLine(SalesLine):
    quote = models.ForeignKey(Quote, on_delete=models.CASCADE, related_name="lines")

    class Meta(SalesLine.Meta):
        pass


class Contract(SalesDocument):
    class Status(models.TextChoices):
        DRAFT = "draft", _("draft")
        UNDER_REVIEW = "under_review", _("under review")
        ACTIVE = "active", _("active")
        EXPIRED = "expired", _("expired")
        TERMINATED = "terminated", _("terminated")

    title = models.CharField(_("title"), max_length=200)
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="contracts",
    )
    quote = models.ForeignKey(
        Quote,
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="contracts",
    )
    value = models.DecimalField(_("value"), **MONEY, default=0)
    start_date = models.DateField(_("start date"))
    end_date = models.DateField(_("end date"), null=True, blank=True)
    renewal_date = models.DateField(_("renewal date"), null=True, blank=True)
    terms = models.TextField(_("terms"), blank=True)
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.DRAFT
    )
    activated_at = models.DateTimeField(null=True, blank=True)
    ended_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["number"], name="contract_number")]
        indexes = [models.Index(fields=["status", "end_date"], name="contract_status_idx")]

    def __str__(self):
        return self.number


class Order(SalesDocument):
    class Status(models.TextChoices):
        OPEN = "open", _("open")
        PARTIALLY_DELIVERED = "partially_delivered", _("partially delivered")
        DELIVERED = "delivered", _("delivered")
        CANCELLED = "cancelled", _("cancelled")

    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="orders",
    )
    contract = models.ForeignKey(
        Contract,
        verbose_name=_("contract"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    quote = models.ForeignKey(
        Quote,
        verbose_name=_("quote"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="orders",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.OPEN
    )
    total_discount_percent = models.DecimalField(_("total discount (%)"), **PERCENT, default=0)
    subtotal = models.DecimalField(_("subtotal"), **MONEY, default=0)
    total_discount = models.DecimalField(_("total discount"), **MONEY, default=0)
    tax_amount = models.DecimalField(_("tax"), **MONEY, default=0)
    total = models.DecimalField(_("total"), **MONEY, default=0)

    class Meta:
        ordering = ["-id"]
        constraints = [models.UniqueConstraint(fields=["number"], name="order_number")]

    def __str__(self):
        return self.number


class OrderLine(SalesLine):
    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="lines")
    delivered_quantity = models.DecimalField(_("delivered"), **QUANTITY, default=0)

    class Meta(SalesLine.Meta):
        pass


class Delivery(models.Model):
    """One (possibly partial) delivery of an order's lines."""

    order = models.ForeignKey(Order, on_delete=models.CASCADE, related_name="deliveries")
    delivered_on = models.DateField(_("delivered on"))
    note = models.CharField(_("note"), max_length=300, blank=True)
    created_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["order", "delivered_on", "id"]

    def __str__(self):
        return f"{self.order_id}:{self.delivered_on}"


class DeliveryLine(models.Model):
    delivery = models.ForeignKey(Delivery, on_delete=models.CASCADE, related_name="lines")
    order_line = models.ForeignKey(OrderLine, on_delete=models.CASCADE, related_name="+")
    quantity = models.DecimalField(_("quantity"), **QUANTITY)

    def __str__(self):
        return f"{self.delivery_id}:{self.order_line_id}"


class Invoice(SalesDocument):
    class Status(models.TextChoices):
        ISSUED = "issued", _("issued")
        PARTIALLY_PAID = "partially_paid", _("partially paid")
        PAID = "paid", _("paid")
        CANCELLED = "cancelled", _("cancelled")

    order = models.ForeignKey(
        Order, verbose_name=_("order"), on_delete=models.PROTECT, related_name="invoices"
    )
    delivery = models.ForeignKey(
        Delivery,
        verbose_name=_("delivery"),
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="invoices",
    )
    deal = models.ForeignKey(
        Deal,
        verbose_name=_("deal"),
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="invoices",
    )
    status = models.CharField(
        _("status"), max_length=20, choices=Status.choices, default=Status.ISSUED
    )
    issue_date = models.DateField(_("issue date"))
    total = models.DecimalField(_("total"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=0)  # may exceed total
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
        constraints = [models.UniqueConstraint(fields=["number"], name="invoice_number")]
        indexes = [models.Index(fields=["customer", "status"], name="invoice_customer_idx")]

    def __str__(self):
        return self.number


class Instalment(models.Model):
    """One due amount of an invoice's payment plan; payments fill the earliest first."""

    invoice = models.ForeignKey(Invoice, on_delete=models.CASCADE, related_name="instalments")
    position = models.PositiveIntegerField(default=0)
    due_date = models.DateField(_("due date"))
    amount = models.DecimalField(_("amount"), **MONEY)
    paid_amount = models.DecimalField(_("paid"), **MONEY, default=0)

    class Meta:
        ordering = ["invoice", "due_date", "position", "id"]
        indexes = [models.Index(fields=["due_date"], name="instalment_due_idx")]

    def __str__(self):
        return f"{self.invoice_id}:{self.due_date}"


class Payment(TimeStampedModel):
    class Method(models.TextChoices):
        BANK_TRANSFER = "bank_transfer", _("bank transfer")
        CASH = "cash", _("cash")
        CARD = "card", _("card")
        CHEQUE = "cheque", _("cheque")
        OTHER = "other", _("other")

    invoice = models.ForeignKey(
        Invoice, verbose_name=_("invoice"), on_delete=models.PROTECT, related_name="payments"
    )
    received_on = models.DateField(_("received on"))
    amount = models.DecimalField(_("amount"), **MONEY)
    method = models.CharField(
        _("method"), max_length=20, choices=Method.choices, default=Method.BANK_TRANSFER
    )
    reference = models.CharField(_("reference"), max_length=100, blank=True)
    # The part beyond what the invoice still owed (an over-payment, kept as a credit).
    unapplied_amount = models.DecimalField(**MONEY, default=0)
    recorded_by = models.ForeignKey(USER, null=True, on_delete=models.SET_NULL, related_name="+")

    class Meta:
        ordering = ["-received_on", "-id"]

    def __str__(self):
        return f"{self.invoice_id}:{self.amount}"
