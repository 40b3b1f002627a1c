"""Search over customers, contacts and leads: global results and a fast type-ahead.

Every searchable record keeps `search_text` (lowercased NFKC name, e-mails, phones and
their digits; see records.search_text) with a pg_trgm GIN index. A fragment is matched
with `search_text LIKE '%fragment%'`:

- three characters or more: PostgreSQL answers from the trigram index (bitmap scan);
- two characters (a Chinese or Japanese given name, "李明", "田中"): no trigram fits in
  the fragment, so the index cannot help and PostgreSQL scans the table. Measured on
  200k customers (bench/crm_search.py) that scan stays well under the type-ahead budget,
  so a second index (bigrams in an extra column) would cost a model change and slower
  writes for no visible gain; the ranking and the LIMIT keep the work bounded.

Ranking: records whose name, e-mail or phone *starts* with the fragment first, then by
trigram similarity, then newest first. Only the first CANDIDATES matches PostgreSQL finds
are ranked: a fragment common to most of the table ("138", "co") would otherwise compute
the similarity of every row (1.5 s on 200k customers) to show eight; the scan stops at
CANDIDATES and a longer fragment narrows the matches anyway.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Case, F, Func, IntegerField, Q, QuerySet, TextField, Value, When
from django.db.models.fields.json import KeyTextTransform
from django.urls import reverse

from customization.models import FieldType
from customization.search import searchable_definitions
from customization.security import hidden_fields

from ..models import Contact, Customer, Lead
from ..records import visible

MIN_LENGTH = 2  # one CJK character matches half the table; two is a name
MAX_PER_TYPE = 20
CANDIDATES = 500
TYPEAHEAD_SIZE = 8
_PHONE_LIKE = re.compile(r"^[\d\s\-+().]+$")


@dataclass(frozen=True)
class SearchType:
    model: type
    include_pool: bool  # customers and leads live in the public pool; contacts do not
    detail_route: str
    fields: tuple[str, ...]


TYPES: dict[str, SearchType] = {
    "customer": SearchType(Customer, True, "crm:customer", ("name", "email", "phone")),
    "contact": SearchType(Contact, False, "crm:contact", ("name", "emails", "phones")),
    "lead": SearchType(Lead, True, "crm:lead", ("name", "company_name", "email", "phone")),
}


def normalise(q: str) -> str:
    """The fragment as search_text stores it; a phone-like fragment becomes its digits
    ("138 0013" finds "+86 138-0013-8000", stored with its digits-only form)."""
    text = unicodedata.normalize("NFKC", q or "").strip().lower()
    if _PHONE_LIKE.match(text):
        digits = re.sub(r"\D", "", text)
        if len(digits) >= 3:
            return digits
    return text


def search_filter(queryset: QuerySet, q: str, *, user) -> QuerySet:
    """`queryset` narrowed to records whose name, e-mail or phone contains `q`, as
    `user` may see them (see `_matching`).

    For list pages and APIs (the lists' `q` filter)."""
    term = normalise(q)
    if not term:
        return queryset
    return _matching(queryset, queryset.model._meta.model_name, user, term)


class _Folded(Func):
    """lower(normalize(text, NFKC)): what records.search_text does to each part."""

    template = "lower(normalize(%(expressions)s, NFKC))"
    output_field = TextField()


def _visible_text(kind: str, hidden: set[str]) -> Func:
    """In SQL, the search text of a record without its `hidden` fields: the other
    searched fields (phones with their digits too) and the searchable custom values,
    which no role has hidden (customization.search)."""
    parts = []
    for field in TYPES[kind].fields:
        if field in hidden:
            continue
        value = F(field)
        if field in ("emails", "phones"):
            value = Func(value, Value(" "), function="array_to_string", output_field=TextField())
        parts.append(_Folded(value))
        if field in ("phone", "phones"):
            parts.append(
                Func(
                    value,
                    Value(r"\D"),
                    Value(""),
                    Value("g"),
                    function="regexp_replace",
                    output_field=TextField(),
                )
            )
    for definition in searchable_definitions(kind):
        value = KeyTextTransform(definition.api_name, "custom_fields")
        if definition.field_type == FieldType.PICKLIST:
            value = Case(
                *(
                    When(
                        **{f"custom_fields__{definition.api_name}": c["value"]},
                        then=Value(c["label"]),
                    )
                    for c in definition.choices
                ),
                default=value,
                output_field=TextField(),
            )
        parts.append(_Folded(value))
    return Func(Value(" "), *parts, function="concat_ws", output_field=TextField())


def _matching(queryset: QuerySet, kind: str, user, term: str) -> QuerySet:
    """Records whose search text contains `term` (the trigram index). When `user`'s role
    has searched fields hidden (field security: an e-mail, a phone), the term must also
    be in what they may see: a match found only in a hidden field would tell them its
    value."""
    queryset = queryset.filter(search_text__contains=term)
    hidden = hidden_fields(kind, user) & set(TYPES[kind].fields)
    if not hidden:
        return queryset
    return queryset.alias(visible_text=_visible_text(kind, hidden)).filter(
        visible_text__contains=term
    )


def _ranked(queryset: QuerySet, term: str) -> QuerySet:
    return queryset.annotate(
        prefix=Case(
            When(Q(search_text__startswith=term) | Q(search_text__contains=" " + term), then=1),
            default=Value(0),
            output_field=IntegerField(),
        ),
        similarity=TrigramSimilarity("search_text", Value(term)),
    ).order_by("-prefix", "-similarity", "-id")


def _subtitle(kind: str, row: dict) -> str:
    if kind == "contact":
        return " · ".join([*row["emails"][:1], *row["phones"][:1]])
    parts = [row.get("company_name") or "", row["email"], row["phone"]]
    return " · ".join(part for part in parts if part)


def _search_type(*, user, kind: str, term: str, limit: int) -> list[dict]:
    spec = TYPES[kind]
    queryset = visible(spec.model.objects.all(), user, include_pool=spec.include_pool)
    candidates = _matching(queryset, kind, user, term).order_by().values("id")
    ranked = _ranked(spec.model.objects.filter(id__in=candidates[:CANDIDATES]), term)
    rows = ranked.values("id", *spec.fields, "owner_id", "prefix", "similarity")[:limit]
    hidden = hidden_fields(kind, user)  # field security: no hidden e-mail/phone shown
    blank = {field: [] if field in ("emails", "phones") else "" for field in hidden}
    rows = [{**row, **{k: v for k, v in blank.items() if k in row}} for row in rows]
    return [
        {
            "type": kind,
            "id": row["id"],
            "name": row["name"],
            "subtitle": _subtitle(kind, row),
            "in_pool": spec.include_pool and row["owner_id"] is None,
            "url": reverse(spec.detail_route, args=[row["id"]]),
            "rank": (row["prefix"], row["similarity"] or 0.0),
        }
        for row in rows
    ]


def search(*, user, q: str, types: list[str] | None = None, limit: int = MAX_PER_TYPE) -> dict:
    """{type: [result, ...]} for the records `user` may see, best first, `limit` per type
    (at most MAX_PER_TYPE). A fragment shorter than MIN_LENGTH finds nothing."""
    term = normalise(q)
    kinds = [kind for kind in (types or list(TYPES)) if kind in TYPES]
    if len(term) < MIN_LENGTH:
        return {kind: [] for kind in kinds}
    limit = max(1, min(limit, MAX_PER_TYPE))
    results = {}
    for kind in kinds:
        results[kind] = _search_type(user=user, kind=kind, term=term, limit=limit)
        for row in results[kind]:
            del row["rank"]
    return results


def typeahead(*, user, q: str, size: int = TYPEAHEAD_SIZE) -> list[dict]:
    """The `size` best matches over all types, for a type-ahead box."""
    term = normalise(q)
    if len(term) < MIN_LENGTH:
        return []
    rows = [
        row for kind in TYPES for row in _search_type(user=user, kind=kind, term=term, limit=size)
    ]
    rows.sort(key=lambda row: row["rank"], reverse=True)
    for row in rows:
        del row["rank"]
    return rows[:size]
