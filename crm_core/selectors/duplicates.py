"""Duplicate detection: records with the same e-mail, the same phone or the same name.

"Same" is by the normalised keys of crm_core.records: name_key (width-folded, lowercased,
without punctuation or company suffixes), phone_key (last 9 digits) and the e-mail
compared case-insensitively. Used on create (the API and forms ask before saving), on
import (in bulk, see `existing_keys`) and by the merge page.
"""

from __future__ import annotations

from django.db import connection
from django.db.models import Q, QuerySet
from django.shortcuts import get_object_or_404

from ..models import Contact, Customer, Lead
from ..records import name_key, phone_key, visible

MODELS = {"customer": Customer, "contact": Contact, "lead": Lead}
# Fields shown side by side on the merge page, and which a merge may take from either.
MERGE_FIELDS = {
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
        "notes",
        "owner",
        "team",
        "region",
    ),
    "contact": (
        "name",
        "customer",
        "job_title",
        "decision_role",
        "birthday",
        "preferred_channel",
        "notes",
        "owner",
        "team",
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
        "team",
        "region",
    ),
}
# Fields a merge unites instead of choosing (lists).
UNION_FIELDS = {"customer": ("tags", "addresses"), "contact": ("emails", "phones"), "lead": ()}


def _email_values(emails) -> list[str]:
    values = {e.strip() for e in emails if e and e.strip()}
    return sorted(values | {e.lower() for e in values})


def duplicate_q(entity: str, *, name: str = "", email: str = "", phone: str = "") -> Q | None:
    """A filter for records sharing `name`'s key, the e-mail or the phone; None if the
    data carries none of them."""
    conditions = Q()
    if key := name_key(name):
        conditions |= Q(name_key=key)
    emails = _email_values([email])
    digits = phone_key(phone)
    if entity == "contact":
        if emails:
            conditions |= Q(emails__overlap=emails)
        if len(digits) >= 7:
            # Contacts keep their phones as typed; search_text holds their digits.
            conditions |= Q(search_text__contains=digits)
    else:
        if email.strip():
            conditions |= Q(email__iexact=email.strip())
        if len(digits) >= 7:
            conditions |= Q(phone_key=digits)
    return conditions or None


def duplicates_of(
    entity: str,
    data: dict,
    *,
    user=None,
    exclude_pk: int | None = None,
    limit: int = 20,
) -> list[dict]:
    """Existing records that `data` ({"name", "email", "phone"}) would duplicate, with
    the reasons ("email", "phone", "name"). With `user`, only records they may see."""
    model = MODELS[entity]
    q = duplicate_q(
        entity,
        name=data.get("name") or "",
        email=data.get("email") or "",
        phone=data.get("phone") or "",
    )
    if q is None:
        return []
    queryset: QuerySet = model.objects.filter(q)
    if user is not None:
        queryset = visible(queryset, user, include_pool=entity != "contact")
    if exclude_pk:
        queryset = queryset.exclude(pk=exclude_pk)
    key = name_key(data.get("name") or "")
    email = (data.get("email") or "").strip().lower()
    digits = phone_key(data.get("phone") or "")
    results = []
    for record in queryset.order_by("-id")[:limit]:
        emails = record.emails if entity == "contact" else [record.email]
        phones = record.phones if entity == "contact" else [record.phone]
        reasons = []
        if email and email in {e.lower() for e in emails if e}:
            reasons.append("email")
        if len(digits) >= 7 and digits in {phone_key(p) for p in phones if p}:
            reasons.append("phone")
        if key and record.name_key == key:
            reasons.append("name")
        results.append(
            {
                "type": entity,
                "id": record.pk,
                "name": record.name,
                "email": emails[0] if emails and emails[0] else "",
                "phone": phones[0] if phones and phones[0] else "",
                "owner_id": record.owner_id,
                "reasons": reasons,
            }
        )
    return results


def merge_pair(*, user, entity: str, keep_id: int, merge_id: int) -> tuple:
    """The two records of a merge, both visible to `user` (404 otherwise)."""
    model = MODELS[entity]
    queryset = visible(
        model.objects.select_related("owner", "team", "region"),
        user,
        include_pool=entity != "contact",
    )
    return get_object_or_404(queryset, pk=keep_id), get_object_or_404(queryset, pk=merge_id)


def merge_conflicts(*, entity: str, keep, merge) -> list[dict]:
    """Fields where both records hold different, non-empty values: the choices to make."""
    rows = []
    for field in MERGE_FIELDS[entity]:
        mine, theirs = _value(keep, field), _value(merge, field)
        rows.append(
            {
                "field": field,
                "label": keep._meta.get_field(field).verbose_name,
                "keep": mine,
                "merge": theirs,
                "conflict": _filled(mine) and _filled(theirs) and mine != theirs,
            }
        )
    return rows


def _value(record, field: str):
    model_field = record._meta.get_field(field)
    if model_field.is_relation:
        return getattr(record, field)
    if model_field.choices:
        return getattr(record, f"get_{field}_display")() if getattr(record, field) else ""
    return getattr(record, field)


def _filled(value) -> bool:
    return value not in (None, "", [], False)


def existing_keys(entity: str, *, names: set, emails: set, phones: set) -> list[dict]:
    """For an import batch: records matching any of the keys, as dicts with id, name_key,
    email_set (lowercased) and phone_set (phone keys).

    One statement, each list passed as one text split by PostgreSQL: an IN list of
    thousands of parameters (or a list adapted item by item) costs more than the index
    lookups themselves."""
    model = MODELS[entity]
    table = connection.ops.quote_name(model._meta.db_table)
    if entity == "contact":
        query = (
            f"SELECT id, name_key, emails, phones FROM {table}"  # noqa: S608 (a model's table)
            " WHERE name_key = ANY(string_to_array(%s, chr(31)))"
            " OR emails && string_to_array(%s, chr(31))::varchar[]"
        )
        params = [_joined(names), _joined(_email_values(emails))]
    else:
        query = (
            f"SELECT id, name_key, email, phone_key FROM {table}"  # noqa: S608 (a model's table)
            " WHERE name_key = ANY(string_to_array(%s, chr(31)))"
            # Case-insensitive, as duplicate_q's iexact, and served by the same index.
            " OR UPPER(email) = ANY(string_to_array(UPPER(%s), chr(31)))"
            " OR phone_key = ANY(string_to_array(%s, chr(31)))"
        )
        params = [_joined(names), _joined(emails), _joined(phones)]
    if not (names or emails or phones):
        return []
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        fetched = cursor.fetchall()
    rows = []
    for pk, key, email, phone in fetched:
        if entity == "contact":
            email_set = {e.lower() for e in email}
            phone_set = {phone_key(p) for p in phone} - {""}
        else:
            email_set = {email.lower()} - {""}
            phone_set = {phone} - {""}
        rows.append({"id": pk, "name_key": key, "email_set": email_set, "phone_set": phone_set})
    return rows


def _joined(values) -> str:
    """Values as one text for string_to_array(..., chr(31)) (a unit separator, which no
    name key, e-mail or phone contains)."""
    return "\x1f".join(v for v in values if v and "\x1f" not in v)


def duplicates_warning(*, entity: str, data: dict, user) -> dict:
    """For a create page: the possible duplicates `user` may open, and how many more
    belong to colleagues (counted, not shown). Empty when there are none."""
    seen = duplicates_of(entity, data, user=user)
    hidden = len(duplicates_of(entity, data)) - len(seen)
    return {"duplicates": seen, "hidden_duplicates": hidden} if seen or hidden else {}
