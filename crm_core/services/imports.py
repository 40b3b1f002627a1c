"""Import of customers, contacts and leads from CSV or XLSX, run by a Celery task.

The path of a job: `import_job_create` stores the file (and a column mapping, guessed
from headers in English, Chinese or Japanese unless given) → `import_job_start` queues
`crm.import_run` → `import_run` reads the rows, validates them in batches, detects
duplicates and writes, updating the job's counters for the progress bar.

Validation applies the rules the entity's services apply on save, row by row: the model
fields' own rules (`Field.clean`: length, choices, e-mail and URL validators, dates), the
name being required and stripped, tags de-duplicated, owners being active users. Only the
*fast* cases are inlined (a length compare, a dict lookup for choices); any value that
fails is handed to the model field for the exact message the API would give.

Rows are written with PostgreSQL COPY, ids taken from the table's sequence beforehand;
that and the light per-row validation reach the >= 13k validated rows/s of design.md,
which per-row services (full_clean alone costs ~90 us per row) cannot. The next batch
is validated while the server ingests the current batch's COPY (see `_Importer`).

Modes: all_or_nothing writes in one transaction, stops writing at the first bad row and
rolls everything back (still reporting every bad row); skip_bad_rows writes each batch's
good rows and reports every bad one.
Dedupe: skip (a row matching an existing record or an earlier row by e-mail, phone or
name is skipped), update (the matching record takes the row's non-empty values) or
create (no check).
"""

from __future__ import annotations

import codecs
import csv
import gc
import io
import json
import logging
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager, nullcontext
from dataclasses import dataclass
from datetime import date, datetime

from django.contrib.postgres.fields import ArrayField
from django.core.exceptions import FieldDoesNotExist, PermissionDenied, ValidationError
from django.core.validators import EmailValidator, MaxLengthValidator
from django.db import DEFAULT_DB_ALIAS, connection, connections, models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import override
from django_tenants.utils import get_public_schema_name
from psycopg.copy import QueuedLibpqWriter

from accounts.models import User
from accounts.roles import Perm, has_perm
from crm_platform.outbox.services import outbox_record
from customization.search import custom_search_words, searchable_definitions
from customization.values import (
    active_definitions,
    custom_values_check_database,
    custom_values_clean,
)

from ..models import AssignmentRule, Contact, Customer, ImportJob, Lead, Region
from ..records import (
    name_key,
    phone_key,
    record_field_changes,
    search_text,
    snapshot,
    visible,
)
from ..selectors.duplicates import existing_keys
from .assignment import assignee_for

logger = logging.getLogger(__name__)

CUSTOM_PREFIX = "custom_fields."
# The first batch is small (nothing overlaps its validation), the others large: each
# costs a duplicate lookup over the table (a sequential scan while the table's
# statistics are new) and a few statements of its own.
FIRST_BATCH_SIZE = 2000
BATCH_SIZE = 20_000
MAX_FILE_BYTES = 50 * 1024 * 1024
MAX_ROWS = 200_000
MODELS = {"customer": Customer, "contact": Contact, "lead": Lead}

# What a column may be mapped to, per entity ("owner" is an e-mail, "region" a region's
# name, a contact's "customer" a customer's name).
IMPORT_FIELDS = {
    "customer": (
        "name",
        "kind",
        "industry",
        "source",
        "relationship_stage",
        "lifecycle_stage",
        "value_tier",
        "is_key_account",
        "email",
        "phone",
        "website",
        "birthday",
        "tags",
        "notes",
        "owner",
        "region",
    ),
    "contact": (
        "name",
        "customer",
        "job_title",
        "decision_role",
        "emails",
        "phones",
        "birthday",
        "preferred_channel",
        "notes",
        "owner",
        "region",
    ),
    "lead": (
        "name",
        "company_name",
        "job_title",
        "email",
        "phone",
        "source",
        "status",
        "has_money",
        "has_authority",
        "has_need",
        "purchase_window",
        "notes",
        "owner",
        "region",
    ),
}
# Headers people write, besides each field's name and its label in every language.
_ALIASES = {
    "name": "名称 名字 姓名 名前 氏名 full_name",
    ("customer", "name"): "客户 客户名称 公司名称 企业名称 顧客名 会社名 企業名 customer "
    "customer_name company company_name",
    ("lead", "name"): "联系人 担当者名 contact_name",
    "email": "e-mail mail 邮箱 电子邮件 邮件 メール メールアドレス 電子メール",
    "emails": "e-mail email mail 邮箱 电子邮件 メール メールアドレス",
    "phone": "tel telephone mobile 电话 手机 联系电话 電話 電話番号 携帯 携帯電話",
    "phones": "phone tel telephone mobile 电话 手机 電話 電話番号 携帯",
    "company_name": "company 公司 公司名称 企业 会社 会社名 企業名",
    "customer": "company 公司 客户 客户名称 会社 会社名 顧客 顧客名 customer_name",
    "job_title": "title position 职位 职务 役職 肩書",
    "owner": "owner_e-mail 负责人 担当者 担当",
    "tags": "tag 标签 タグ",
    "notes": "note remarks comment 备注 说明 メモ 備考",
    "industry": "行业 業種 業界",
    "source": "lead_source 来源 线索来源 流入元",
    "website": "url web homepage 网址 网站 ホームページ ウェブサイト",
    "region": "territory 区域 地区 地域 エリア",
    "birthday": "birth_date date_of_birth 生日 出生日期 誕生日 生年月日",
}
_TRUE = {"1", "true", "yes", "y", "x", "✓", "是", "有", "はい", "あり", "○"}
_FALSE = {"0", "false", "no", "n", "否", "无", "いいえ", "なし", "×"}
_DATE_FORMATS = ("%Y/%m/%d", "%Y.%m.%d", "%Y年%m月%d日", "%d.%m.%Y")
_LIST_SPLIT = re.compile(r"[,;，；、|\n]+")
_PLAIN = re.compile(r"[\s_\-:：()（）]+")


def _compiled_email_validator() -> EmailValidator:
    """Django's e-mail validator with its patterns compiled now: they are lazy objects on
    the class, and going through the proxy on every row cost more than the matching."""
    validator = EmailValidator()
    for name in ("user_regex", "domain_regex", "literal_regex"):
        lazy = getattr(EmailValidator, name)
        setattr(validator, name, re.compile(lazy.pattern, lazy.flags))
    return validator


_validate_email = _compiled_email_validator()


# --- reading files ---------------------------------------------------------------------


def _decode(data: bytes) -> str:
    """CSV bytes as text: UTF-8 (with or without BOM), UTF-16 with BOM, else Shift_JIS
    (when the text reads as Japanese) or GB18030."""
    if data.startswith(codecs.BOM_UTF8):
        return data[len(codecs.BOM_UTF8) :].decode("utf-8", errors="replace")
    if data.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return data.decode("utf-16")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    try:
        text = data.decode("cp932")
        kana = sum(1 for ch in text if "\u3040" <= ch <= "\u30ff")
        half_width = sum(1 for ch in text if "\uff61" <= ch <= "\uff9f")
        if kana > half_width:
            return text
    except UnicodeDecodeError:
        pass
    try:
        return data.decode("gb18030")
    except UnicodeDecodeError:
        raise ValidationError(
            {"file": [_("The file's characters cannot be read: save it as UTF-8 CSV or XLSX.")]}
        ) from None


def _xlsx_cell(value):
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.date() if (value.hour, value.minute, value.second) == (0, 0, 0) else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return value if isinstance(value, (str, date)) else str(value)


def read_table(file_name: str, data: bytes) -> tuple[list[str], list[list]]:
    """(headers, data rows) of a CSV or XLSX file; ValidationError on "file" if unreadable."""
    if (file_name or "").lower().endswith((".xlsx", ".xlsm")) or data[:4] == b"PK\x03\x04":
        from openpyxl import load_workbook

        try:
            workbook = load_workbook(io.BytesIO(data), read_only=True, data_only=True)
        except Exception:  # openpyxl raises many kinds for a broken file
            raise ValidationError({"file": [_("This is not a readable XLSX file.")]}) from None
        try:
            rows = [
                [_xlsx_cell(v) for v in row]
                for row in workbook.worksheets[0].iter_rows(values_only=True)
            ]
        finally:
            workbook.close()
    else:
        text = _decode(data)
        first_line = text.split("\n", 1)[0]
        delimiter = max((",", ";", "\t"), key=first_line.count)
        rows = list(csv.reader(io.StringIO(text, newline=""), delimiter=delimiter))
    while rows and not any(str(cell).strip() for cell in rows[-1]):
        rows.pop()  # trailing empty rows (spreadsheets keep formatted ones)
    if not rows:
        raise ValidationError({"file": [_("The file is empty.")]})
    headers = [str(cell).strip() for cell in rows[0]]
    return headers, rows[1:]


# --- mapping columns to fields -----------------------------------------------------------


def _custom_definitions(entity: str) -> list:
    """The entity's custom fields (none outside a company's schema)."""
    if connection.schema_name == get_public_schema_name():
        return []
    return active_definitions(entity)


def import_fields(entity: str) -> tuple[str, ...]:
    """What a column may be mapped to: the entity's fields and its custom fields
    (`custom_fields.<api_name>`)."""
    custom = tuple(f"{CUSTOM_PREFIX}{d.api_name}" for d in _custom_definitions(entity))
    return IMPORT_FIELDS[entity] + custom


def field_label(entity: str, field: str) -> str:
    if field.startswith(CUSTOM_PREFIX):
        definition = next(
            (d for d in _custom_definitions(entity) if CUSTOM_PREFIX + d.api_name == field), None
        )
        return definition.display_label if definition else field
    return str(MODELS[entity]._meta.get_field(field).verbose_name)


def _plain(text: str) -> str:
    return _PLAIN.sub("", unicodedata.normalize("NFKC", str(text)).lower())


def _header_names(entity: str) -> dict[str, str]:
    """plain header → field, from field names, their labels in every language, aliases."""
    model = MODELS[entity]
    names: dict[str, str] = {}
    for field in IMPORT_FIELDS[entity]:
        aliases = _ALIASES.get((entity, field), "") + " " + _ALIASES.get(field, "")
        spellings = [field, *aliases.split()]
        for code in ("en", "zh-hans", "ja"):
            with override(code):
                spellings.append(str(model._meta.get_field(field).verbose_name))
        for spelling in spellings:
            names.setdefault(_plain(spelling), field)
    for definition in _custom_definitions(entity):
        spellings = [definition.api_name, definition.label, *definition.label_translations.values()]
        for spelling in spellings:
            names.setdefault(_plain(spelling), CUSTOM_PREFIX + definition.api_name)
    return names


def auto_mapping(entity: str, headers: list[str]) -> dict[str, str]:
    """Header → field for the headers recognised; each field is used once."""
    names = _header_names(entity)
    mapping, used = {}, set()
    for header in headers:
        field = names.get(_plain(header))
        if field and field not in used:
            mapping[header] = field
            used.add(field)
    return mapping


def check_mapping(entity: str, headers: list[str], mapping) -> dict[str, str]:
    """The mapping without empty choices; ValidationError on "mapping" if it is wrong."""
    if not isinstance(mapping, dict):
        raise ValidationError({"mapping": [_("An object of column header: field name.")]})
    mapping = {str(h): str(f) for h, f in mapping.items() if f}
    errors = []
    for header, field in mapping.items():
        if header not in headers:
            errors.append(_("The file has no column %(header)s.") % {"header": header})
        if field not in import_fields(entity):
            errors.append(_("%(field)s cannot be imported.") % {"field": field})
    taken = list(mapping.values())
    for field in {f for f in taken if taken.count(f) > 1}:
        errors.append(_("Two columns are mapped to %(field)s.") % {"field": field})
    if "name" not in taken:
        errors.append(_("Map a column to the name."))
    if errors:
        raise ValidationError({"mapping": errors})
    return mapping


# --- validating rows ---------------------------------------------------------------------


def _field_error(field: models.Field, raw) -> str:
    """The model field's own message for a bad value."""
    try:
        field.clean(raw, None)
    except ValidationError as exc:
        return exc.messages[0]
    return _("Enter a valid value.")


def _char_cleaner(field: models.Field) -> Callable:
    limit = field.max_length

    def clean(raw):
        if not isinstance(raw, str):
            raw = str(raw)
        if limit and len(raw) > limit:
            raise ValidationError(_field_error(field, raw))
        return raw

    return clean


def _choice_cleaner(field: models.Field) -> Callable:
    accepted = {}
    for value, label in field.choices:
        accepted[str(value).lower()] = value
        for code in ("en", "zh-hans", "ja"):
            with override(code):
                accepted.setdefault(str(label).lower(), value)

    def clean(raw):
        value = accepted.get(str(raw).lower())
        if value is None:
            raise ValidationError(_field_error(field, raw))
        return value

    return clean


def _bool_cleaner(field: models.Field) -> Callable:
    def clean(raw):
        text = str(raw).lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
        raise ValidationError(_("Enter yes or no."))

    return clean


def _date_cleaner(field: models.Field) -> Callable:
    def clean(raw):
        if isinstance(raw, datetime):
            return raw.date()
        if isinstance(raw, date):
            return raw
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
        for fmt in _DATE_FORMATS:
            try:
                return datetime.strptime(raw, fmt).date()  # noqa: DTZ007 (a date, no time)
            except ValueError:
                continue
        raise ValidationError(_field_error(field, raw))

    return clean


def _email_cleaner(field: models.EmailField) -> Callable:
    """The field's own rules (its length and e-mail validators) checked without
    `Field.clean`'s per-call overhead; a value that fails gets the field's message.
    A field with any other validator is left to `Field.clean`."""
    if any(
        not isinstance(v, (EmailValidator, MaxLengthValidator))
        or (isinstance(v, EmailValidator) and v != _validate_email)
        for v in field.validators
    ):
        return lambda raw: field.clean(str(raw), None)
    limit = field.max_length

    def clean(raw):
        value = str(raw)
        if not limit or len(value) <= limit:
            try:
                _validate_email(value)
                return value
            except ValidationError:
                pass
        raise ValidationError(_field_error(field, value))

    return clean


def _list_cleaner(field: ArrayField, kind: str) -> Callable:
    limit = field.base_field.max_length

    def clean(raw):
        items = [item.strip() for item in _LIST_SPLIT.split(str(raw)) if item.strip()]
        if kind == "tags":
            items = sorted(set(items))
        for item in items:
            if limit and len(item) > limit:
                raise ValidationError(_field_error(field.base_field, item))
            if kind == "emails":
                _validate_email(item)
        return items

    return clean


def _cleaner(model, name: str) -> Callable:
    field = model._meta.get_field(name)
    if isinstance(field, ArrayField):
        return _list_cleaner(field, name)
    if field.choices:
        return _choice_cleaner(field)
    if isinstance(field, models.BooleanField):
        return _bool_cleaner(field)
    if isinstance(field, models.DateField):
        return _date_cleaner(field)
    if isinstance(field, models.EmailField):
        return _email_cleaner(field)
    if isinstance(field, models.URLField):
        return lambda raw: field.clean(str(raw), None)
    return _char_cleaner(field)


@dataclass
class Lookups:
    """Values a row names that must exist: users by e-mail, regions and customers by name."""

    users: dict[str, User]
    regions: dict[str, int]

    @classmethod
    def load(cls) -> Lookups:
        return cls(
            users={u.email.lower(): u for u in User.objects.filter(is_active=True)},
            regions={n.lower(): pk for pk, n in Region.objects.values_list("id", "name")},
        )


class RowValidator:
    """Validates rows of one file for one entity, by the mapping (header → field)."""

    def __init__(self, entity: str, headers: list[str], mapping: dict[str, str], lookups):
        self.entity = entity
        self.model = MODELS[entity]
        self.lookups = lookups
        self.columns = []
        self.custom_columns = []  # (index, api name): checked by customization's validator
        self.definitions = active_definitions(entity)
        # Loaded here: rows are validated while a COPY holds the connection.
        self.searchable = searchable_definitions(entity)
        for index, header in enumerate(headers):
            field = mapping.get(header)
            if field and field.startswith(CUSTOM_PREFIX):
                self.custom_columns.append((index, field.removeprefix(CUSTOM_PREFIX)))
            elif field in ("owner", "region", "customer"):
                self.columns.append((index, field, None))
            elif field:
                self.columns.append((index, field, _cleaner(self.model, field)))
        self._blank_name = _field_error(self.model._meta.get_field("name"), "")

    def validate(self, cells: list) -> tuple[dict, list[tuple[str, str]]]:
        """(values by field attname, [(field, message)]) for one row."""
        values: dict = {}
        errors: list[tuple[str, str]] = []
        width = len(cells)
        for index, field, clean in self.columns:
            raw = cells[index] if index < width else ""
            if isinstance(raw, str):
                raw = raw.strip()
                if not raw:
                    continue
            if clean is None:
                self._lookup(field, raw, values, errors)
                continue
            try:
                values[field] = clean(raw)
            except ValidationError as exc:
                errors.append((field, exc.messages[0]))
        if self.custom_columns or any(d.required for d in self.definitions):
            self._custom(cells, values, errors)
        if not values.get("name"):
            if not any(field == "name" for field, _m in errors):
                errors.append(("name", self._blank_name))
        return values, errors

    def _custom(self, cells: list, values: dict, errors: list) -> None:
        raw = {
            name: cells[index] if index < len(cells) else "" for index, name in self.custom_columns
        }
        try:
            values["custom_fields"] = custom_values_clean(
                model=self.model,
                entity=self.entity,
                values=raw,
                definitions=self.definitions,
                database=False,  # the connection is busy with COPY; see _Importer._check_custom
            )
        except ValidationError as exc:
            errors.extend((field, messages[0]) for field, messages in exc.message_dict.items())

    def _lookup(self, field: str, raw, values: dict, errors: list) -> None:
        key = str(raw).lower()
        if field == "owner":
            user = self.lookups.users.get(key)
            if user is None:
                errors.append(("owner", _("No active user has this e-mail.")))
            else:
                values["owner_id"], values["team_id"] = user.pk, user.team_id
        elif field == "region":
            if key not in self.lookups.regions:
                errors.append(("region", _("No region has this name.")))
            else:
                values["region_id"] = self.lookups.regions[key]
        else:  # a contact's customer, resolved per batch by name key
            values["customer_key"] = name_key(str(raw))


def derived_keys(entity: str, values: dict, words: list[str] = ()) -> dict:
    """name_key, phone_key and search_text as the entity's services compute them
    (`words`: the record's searchable custom values, customization.search)."""
    name = values.get("name", "")
    if entity == "contact":
        emails, phones = values.get("emails", []), values.get("phones", [])
        return {"name_key": name_key(name), "search_text": search_text(name, emails, phones, words)}
    email, phone = values.get("email", ""), values.get("phone", "")
    company = values.get("company_name", "") if entity == "lead" else ""
    return {
        "name_key": name_key(name),
        "phone_key": phone_key(phone),
        "search_text": search_text(name, company, email, phone, words),
    }


# --- jobs --------------------------------------------------------------------------------


def _ensure_may_import(actor: User) -> None:
    if not has_perm(actor, Perm.IMPORT_RECORDS):
        raise PermissionDenied


@transaction.atomic
def import_job_create(
    *,
    actor: User,
    entity: str,
    file_name: str,
    data: bytes,
    mapping: dict | None = None,
    mode: str = ImportJob.Mode.ALL_OR_NOTHING,
    dedupe: str = ImportJob.Dedupe.SKIP,
    dry_run: bool = False,
    start: bool = True,
) -> ImportJob:
    """A new import job for the file. With `start`, it is queued at once (the mapping
    given, or guessed from the headers); without, it waits for `import_job_start`."""
    _ensure_may_import(actor)
    errors = {}
    if entity not in IMPORT_FIELDS:
        errors["entity"] = [_("Choose customer, contact or lead.")]
    if mode not in ImportJob.Mode.values:
        errors["mode"] = [_("Choose all_or_nothing or skip_bad_rows.")]
    if dedupe not in ImportJob.Dedupe.values:
        errors["dedupe"] = [_("Choose skip, update or create.")]
    if not data:
        errors["file"] = [_("The file is empty.")]
    elif len(data) > MAX_FILE_BYTES:
        errors["file"] = [_("The file is larger than 50 MB.")]
    if errors:
        raise ValidationError(errors)
    headers, rows = read_table(file_name, data)
    if len(rows) > MAX_ROWS:
        raise ValidationError(
            {"file": [_("At most %(count)d rows per file.") % {"count": MAX_ROWS}]}
        )
    if mapping is None:
        mapping = auto_mapping(entity, headers)
        if not start:
            mapping = {}  # the page shows the guess and the user confirms it
    if start:
        mapping = check_mapping(entity, headers, mapping)
    job = ImportJob.objects.create(
        entity=entity,
        file_name=(file_name or "import")[:200],
        file_data=data,
        mapping=mapping,
        mode=mode,
        dedupe=dedupe,
        dry_run=dry_run,
        total_rows=len(rows),
        created_by=actor,
    )
    if start:
        _queue(job)
    return job


@transaction.atomic
def import_job_start(*, job: ImportJob, actor: User, mapping: dict, **options) -> ImportJob:
    """Confirm the mapping (and options: mode, dedupe, dry_run) of a waiting job; queue it."""
    _ensure_may_import(actor)
    job = ImportJob.objects.select_for_update().get(pk=job.pk)
    if job.status != ImportJob.Status.PENDING or job.mapping:
        raise ValidationError(_("This import has already started."))
    headers, _rows = read_table(job.file_name, bytes(job.file_data))
    job.mapping = check_mapping(job.entity, headers, mapping)
    for option in ("mode", "dedupe", "dry_run"):
        if option in options:
            setattr(job, option, options[option])
    if job.mode not in ImportJob.Mode.values or job.dedupe not in ImportJob.Dedupe.values:
        raise ValidationError({"mode": [_("Choose a valid mode and duplicate handling.")]})
    job.save(update_fields=["mapping", "mode", "dedupe", "dry_run", "updated_at"])
    _queue(job)
    return job


def _queue(job: ImportJob) -> None:
    from ..tasks.imports import import_run_task

    job_id = job.pk

    def send() -> None:
        try:
            import_run_task.delay(job_id)
        except Exception:  # the broker is down: the job waits, the upload still succeeds
            logger.exception("import %s could not be queued", job_id)

    transaction.on_commit(send)


def import_run(*, job_id: int) -> ImportJob:
    """Run a queued job (the Celery task's body). A job that is not waiting is left as
    it is, so a redelivered task does nothing twice."""
    updated = (
        ImportJob.objects.filter(pk=job_id, status=ImportJob.Status.PENDING)
        .exclude(mapping={})  # still waiting for the user to map its columns
        .update(status=ImportJob.Status.RUNNING, updated_at=timezone.now())
    )
    job = ImportJob.objects.get(pk=job_id)
    if not updated:
        return job
    try:
        with override(getattr(job.created_by, "language", "") or None):  # their messages
            _Importer(job).run()
    except ValidationError as exc:
        _finish(job, ImportJob.Status.FAILED, extra_errors=_file_errors(exc))
    except Exception:
        logger.exception("import %s failed", job_id)
        _finish(
            job,
            ImportJob.Status.FAILED,
            extra_errors=[{"row": None, "field": "", "message": _("The import failed.")}],
        )
        raise
    return job


def _file_errors(exc: ValidationError) -> list[dict]:
    items = exc.message_dict.items() if hasattr(exc, "error_dict") else [("", exc.messages)]
    return [
        {"row": None, "field": field, "message": message}
        for field, messages in items
        for message in messages
    ]


def _finish(job: ImportJob, status: str, *, extra_errors: Iterable[dict] = ()) -> None:
    job.errors = [*job.errors, *extra_errors]
    job.status = status
    job.finished_at = timezone.now()
    job.save(
        update_fields=[
            "status",
            "errors",
            "finished_at",
            "processed_rows",
            "created_rows",
            "updated_rows",
            "skipped_rows",
            "error_rows",
            "updated_at",
        ]
    )


class _ProgressWriter:
    """Saves the job's counters on a connection of its own, in autocommit: the import
    may hold one long transaction (all or nothing), and the page polls meanwhile."""

    FIELDS = ("processed_rows", "created_rows", "updated_rows", "skipped_rows", "error_rows")

    def __init__(self, job: ImportJob):
        self.job = job
        self.side = connections.create_connection(DEFAULT_DB_ALIAS)
        self.side.set_schema(connection.schema_name)
        table = connection.ops.quote_name(ImportJob._meta.db_table)
        columns = ", ".join(f"{field} = %s" for field in self.FIELDS)
        self.sql = f"UPDATE {table} SET {columns}, updated_at = %s WHERE id = %s"  # noqa: S608

    def save(self) -> None:
        job = self.job
        values = [getattr(job, field) for field in self.FIELDS]
        with self.side.cursor() as cursor:
            cursor.execute(self.sql, [*values, timezone.now(), job.pk])

    def close(self) -> None:
        self.side.close()


class _Importer:
    """One run of a job. The next batch is validated (pure Python) while PostgreSQL
    ingests the current batch's COPY, which psycopg's queued writer feeds from a thread
    of its own: the server's work (index upkeep) and ours overlap instead of adding up.
    Validation runs in this thread, so the steps that need the connection between two
    COPYs (lookups, dedupe) never wait for it to hand over the GIL."""

    def __init__(self, job: ImportJob):
        self.job = job
        self.entity = job.entity
        self.model = MODELS[job.entity]
        self.actor = job.created_by
        self.seen_email: dict[str, int | None] = {}  # key → existing id (None: a file row)
        self.seen_phone: dict[str, int | None] = {}
        self.seen_name: dict[str, int | None] = {}
        self.use_rules = (
            self.entity != "contact"
            and AssignmentRule.objects.filter(entity=self.entity, is_active=True).exists()
        )

    def run(self) -> None:
        with _gc_paused():
            self._run()

    def _run(self) -> None:
        job = self.job
        headers, rows = read_table(job.file_name, bytes(job.file_data))
        validator = RowValidator(self.entity, headers, job.mapping, Lookups.load())
        self.searchable = validator.searchable
        job.total_rows = len(rows)
        job.save(update_fields=["total_rows"])
        all_or_nothing = job.mode == ImportJob.Mode.ALL_OR_NOTHING
        writes = not job.dry_run
        progress = _ProgressWriter(job)
        try:
            with transaction.atomic() if all_or_nothing and writes else nullcontext():
                batches = _batch_bounds(len(rows))
                upcoming = self._validate(validator, rows, *next(iter(batches), (0, 0)))
                for index, (_start, end) in enumerate(batches):
                    valid, errors, bad = upcoming
                    job.error_rows += bad
                    job.errors.extend(errors)
                    creates, updates = self._classify(valid)
                    write = writes and not (all_or_nothing and job.error_rows)
                    with self._writing(creates, updates) if write else nullcontext():
                        following = batches[index + 1] if index + 1 < len(batches) else (end, end)
                        upcoming = self._validate(validator, rows, *following)
                    job.processed_rows = end
                    progress.save()
                if all_or_nothing and writes and job.error_rows:
                    transaction.set_rollback(True)
        finally:
            progress.close()
        job.errors.sort(key=lambda error: error["row"] or 0)
        if all_or_nothing and writes and job.error_rows:
            job.created_rows = job.updated_rows = job.skipped_rows = 0
            message = _("Nothing was imported: %(count)d rows have errors.") % {
                "count": job.error_rows
            }
            _finish(job, ImportJob.Status.FAILED, extra_errors=[_summary(message)])
            return
        _finish(job, ImportJob.Status.DONE)

    # -- one batch: validate (while the previous COPY runs), then resolve and dedupe -----

    def _validate(self, validator: RowValidator, rows: list, start: int, end: int):
        """(valid rows, errors, bad row count) of rows[start:end]; no database: a COPY may
        hold the connection."""
        valid: list[tuple[int, dict, tuple]] = []  # (row number, values, duplicate keys)
        errors: list[dict] = []
        bad = 0
        for offset, cells in enumerate(rows[start:end]):
            values, row_errors = validator.validate(cells)
            if row_errors:
                bad += 1
                row_number = start + offset + 2  # the header is row 1
                errors.extend(
                    {"row": row_number, "field": field, "message": message}
                    for field, message in row_errors
                )
                continue
            words = custom_search_words(values.get("custom_fields"), validator.searchable)
            values.update(derived_keys(self.entity, values, words))
            valid.append((start + offset + 2, values, self._keys(values)))
        return valid, errors, bad

    def _classify(self, valid: list) -> tuple[list, list]:
        valid = self._check_custom(valid)
        if self.entity == "contact":
            valid = self._resolve_customers(valid)
        if self.job.dedupe == ImportJob.Dedupe.CREATE:
            self.job.created_rows += len(valid)
            return [values for _row, values, _keys in valid], []
        return self._dedupe(valid)

    def _check_custom(self, valid: list) -> list:
        """Custom field checks that query (lookups exist, unique values are free)."""
        definitions = active_definitions(self.entity)
        kept = []
        for row in valid:
            row_number, values, _keys = row
            custom = values.get("custom_fields")
            errors = (
                custom_values_check_database(self.model, definitions, custom, custom)
                if custom
                else {}
            )
            if errors:
                self.job.error_rows += 1
                self.job.errors.extend(
                    {"row": row_number, "field": field, "message": messages[0]}
                    for field, messages in errors.items()
                )
            else:
                kept.append(row)
        return kept

    def _resolve_customers(self, valid: list) -> list:
        keys = {values["customer_key"] for _row, values, _ in valid if "customer_key" in values}
        found = dict(
            Customer.objects.filter(name_key__in=keys)
            .order_by("id")  # the newest of namesakes wins
            .values_list("name_key", "id")
        )
        kept = []
        for row in valid:
            row_number, values, _keys = row
            key = values.pop("customer_key", None)
            if key is not None:
                if key not in found:
                    self.job.error_rows += 1
                    self.job.errors.append(
                        {
                            "row": row_number,
                            "field": "customer",
                            "message": _("No customer has this name."),
                        }
                    )
                    continue
                values["customer_id"] = found[key]
            kept.append(row)
        return kept

    def _keys(self, values: dict) -> tuple[set, set, str]:
        if self.entity == "contact":
            emails = {e.lower() for e in values.get("emails", [])}
            phones = {phone_key(p) for p in values.get("phones", [])} - {""}
        else:
            emails = {values["email"].lower()} if values.get("email") else set()
            phones = {values["phone_key"]} if values.get("phone_key") else set()
        return emails, phones, values["name_key"]

    def _dedupe(self, valid: list) -> tuple[list, list]:
        job = self.job
        names, emails, phones = set(), set(), set()
        for _row, _values, (row_emails, row_phones, key) in valid:
            emails |= row_emails
            phones |= row_phones
            if key:
                names.add(key)
        for record in existing_keys(self.entity, names=names, emails=emails, phones=phones):
            for email in record["email_set"]:
                self.seen_email.setdefault(email, record["id"])
            for phone in record["phone_set"]:
                self.seen_phone.setdefault(phone, record["id"])
            if record["name_key"]:
                self.seen_name.setdefault(record["name_key"], record["id"])
        changeable = self._changeable(valid) if job.dedupe == ImportJob.Dedupe.UPDATE else set()
        creates, updates, updated_ids = [], [], set()
        for _row, values, (row_emails, row_phones, key) in valid:
            match = self._match(row_emails, row_phones, key)
            if match is _NO_MATCH:
                creates.append(values)
                for email in row_emails:
                    self.seen_email[email] = None
                for phone in row_phones:
                    self.seen_phone[phone] = None
                if key:
                    self.seen_name[key] = None
            elif (
                job.dedupe == ImportJob.Dedupe.UPDATE
                and match in changeable
                and match not in updated_ids
            ):
                updates.append((match, values))
                updated_ids.add(match)
            else:  # skipping, or a second row for the same record / an earlier file row
                job.skipped_rows += 1
        job.created_rows += len(creates)
        job.updated_rows += len(updates)
        return creates, updates

    def _changeable(self, valid: list) -> set[int]:
        """Matched records the importing user may change (others are skipped, not updated)."""
        matched = {self._match(*keys) for _row, _values, keys in valid}
        ids = {pk for pk in matched if isinstance(pk, int)}
        if not ids or not has_perm(self.actor, Perm.CHANGE_RECORDS):
            return set()
        queryset = visible(self.model.objects.filter(pk__in=ids), self.actor)
        return set(queryset.values_list("id", flat=True))

    def _match(self, emails: set, phones: set, key: str):
        for email in emails:
            if email in self.seen_email:
                return self.seen_email[email]
        for phone in phones:
            if phone in self.seen_phone:
                return self.seen_phone[phone]
        if key and key in self.seen_name:
            return self.seen_name[key]
        return _NO_MATCH

    # -- writing ------------------------------------------------------------------------

    @contextmanager
    def _writing(self, creates: list[dict], updates: list[tuple[int, dict]]) -> Iterator[None]:
        """Writes one batch in a (sub)transaction of its own. The body runs while the
        server ingests the created rows, and must not use the connection."""
        job = self.job
        with transaction.atomic():
            with self._creating(creates) as created_ids:
                yield
            updated_ids = self._update(updates) if updates else []
            outbox_record(
                event_type=f"{self.entity}.imported",
                aggregate_type="import",
                aggregate_id=job.pk,
                payload={
                    "job_id": job.pk,
                    "entity": self.entity,
                    "created_ids": created_ids,
                    "updated_ids": updated_ids,
                },
            )

    def _owner_for(self, values: dict) -> None:
        if values.get("owner_id"):
            return
        owner = assignee_for(entity=self.entity, region_id=values.get("region_id"))
        owner = owner or self.actor
        values["owner_id"] = owner.pk if owner else None
        values["team_id"] = owner.team_id if owner else None

    @contextmanager
    def _creating(self, creates: list[dict]) -> Iterator[list[int]]:
        """COPYs the rows; yields their ids once all are queued, while a writer thread
        still feeds them to the server, and returns when the server has taken them."""
        if not creates:
            yield []
            return
        model = self.model
        fields = list(model._meta.concrete_fields)
        defaults = {f.attname: _db_value(f, f.get_default()) for f in fields}
        now = timezone.now()
        defaults.update(created_at=now, updated_at=now, created_by_id=self.job.created_by_id)
        table = model._meta.db_table
        if self.use_rules:
            for values in creates:  # before COPY: the rules query while choosing
                self._owner_for(values)
        else:  # a row without an owner is the importer's (an owner column sets both ids)
            if self.actor:
                defaults.update(owner_id=self.actor.pk, team_id=self.actor.team_id)
        with connection.cursor() as cursor:
            # The sequence is looked up once (an InitPlan), not for each id: with the table
            # name a parameter, the lookup ran per row (65 ms for 20,000 ids, now 9 ms).
            cursor.execute(
                "SELECT nextval((SELECT pg_get_serial_sequence(%s, 'id')::regclass))"
                " FROM generate_series(1, %s)",
                [table, len(creates)],
            )
            ids = [row[0] for row in cursor.fetchall()]
            quote = connection.ops.quote_name
            columns = ", ".join(quote(f.column) for f in fields)
            attnames = [f.attname for f in fields]
            arrays = [f.attname for f in fields if isinstance(f, ArrayField)]
            # Each row starts as the defaults and takes the values given: a lookup per
            # given value (about a dozen) rather than per column (about thirty).
            position = {attname: index for index, attname in enumerate(attnames)}
            template = [defaults[attname] for attname in attnames]
            sql = f"COPY {quote(table)} ({columns}) FROM STDIN"
            with cursor.copy(sql, writer=QueuedLibpqWriter(cursor.cursor)) as copy:
                for pk, values in zip(ids, creates, strict=True):
                    values["id"] = pk
                    if "custom_fields" in values:
                        values["custom_fields"] = json.dumps(values["custom_fields"])
                    for attname in arrays:
                        if attname in values:
                            values[attname] = _array_literal(values[attname])
                    row = template.copy()
                    for attname, value in values.items():
                        index = position.get(attname)
                        if index is not None:
                            row[index] = value
                    copy.write_row(row)
                yield ids

    def _update(self, updates: list[tuple[int, dict]]) -> list[int]:
        model = self.model
        records = model.objects.in_bulk([pk for pk, _values in updates])
        key_fields = ("owner", "team", "relationship_stage", "value_tier", "status")
        key_fields = [field for field in key_fields if _has_field(model, field)]
        changed_fields: set[str] = set()
        saved = []
        for pk, values in updates:
            record = records.get(pk)
            if record is None:  # deleted meanwhile
                continue
            before = snapshot(record, key_fields)
            for attname, value in values.items():
                if attname in ("tags", "emails", "phones"):
                    value = sorted(set(getattr(record, attname)) | set(value))
                elif attname == "custom_fields":
                    value = {**record.custom_fields, **value}
                setattr(record, attname, value)
                changed_fields.add(attname)
            words = custom_search_words(record.custom_fields, self.searchable)
            for attname, value in derived_keys(self.entity, _current(record), words).items():
                setattr(record, attname, value)
            record.updated_at = timezone.now()
            record_field_changes(
                record_type=self.entity, record=record, before=before, actor=self.actor
            )
            saved.append(record)
        changed_fields |= {"name_key", "search_text", "updated_at"}
        if self.entity != "contact":
            changed_fields.add("phone_key")
        model.objects.bulk_update(saved, sorted(changed_fields), batch_size=500)
        return [record.pk for record in saved]


_NO_MATCH = object()


def _batch_bounds(count: int) -> list[tuple[int, int]]:
    """(start, end) of each batch of `count` rows."""
    edges = [0, *range(min(FIRST_BATCH_SIZE, BATCH_SIZE), count, BATCH_SIZE), count]
    return list(zip(edges, edges[1:], strict=False)) if count else []


@contextmanager
def _gc_paused() -> Iterator[None]:
    """The cycle collector off for a run: the file's rows are 100k+ long-lived lists that
    every full collection walks again (0.3-0.7 s of a 100k-row dry run's ~3.5 s), while
    a run makes next to no cycles; what it leaves is collected once the collector is on."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _summary(message: str) -> dict:
    return {"row": None, "field": "", "message": message}


def _has_field(model, name: str) -> bool:
    try:
        model._meta.get_field(name)
    except FieldDoesNotExist:
        return False
    return True


def _current(record) -> dict:
    if isinstance(record, Contact):
        return {"name": record.name, "emails": record.emails, "phones": record.phones}
    values = {"name": record.name, "email": record.email, "phone": record.phone}
    if isinstance(record, Lead):
        values["company_name"] = record.company_name
    return values


def _db_value(field: models.Field, value):
    """A Python default as COPY takes it (JSON and arrays as text)."""
    if isinstance(field, models.JSONField):
        return json.dumps(value)
    if isinstance(field, ArrayField):
        return _array_literal(value)
    return value


def _array_literal(items: list[str]) -> str:
    """A text[] literal: psycopg adapts lists item by item in Python, ~10 us a row."""
    quoted = ('"' + item.replace("\\", "\\\\").replace('"', '\\"') + '"' for item in items)
    return "{" + ",".join(quoted) + "}"
