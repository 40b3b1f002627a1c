"""Benchmark 5, "search on 200k customers": the global search (customers, 20 best) and
the type-ahead (8 best over customers, contacts and leads) as the API runs them, for
fragments of Chinese and Japanese names of three characters and more (trigram index),
of two characters (no trigram fits: a sequential scan), of e-mails and of phone digits.

Customers are written with COPY like the list benchmark, their derived columns by the
product's own helpers; the searching user is the owner (an administrator: visibility
does not narrow the scan, the worst case). Each fragment is searched several times and
the fragments of a kind are interleaved with the other kinds.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass
from time import perf_counter_ns

from django.db import connection
from django_tenants.utils import tenant_context
from psycopg import sql

from .crm_import import COPY_COLUMNS, company, copy_into, copy_rows
from .stats import Check, Ratio, Section, Series

SUBDOMAIN = "benchsearch"
# Our own budget (design.md has none for search): a type-ahead answer within a keystroke.
TYPEAHEAD_P95_LIMIT_MS = 150.0
TWO_CHAR_P95_LIMIT_MS = 300.0

FRAGMENTS = {
    "cjk3": ("华强电子", "明华贸易", "サクラ精工", "みなと物流", "上海云帆"),
    "cjk2": ("华强", "田中", "精工", "商事", "云帆"),
    "cjk2_miss": ("麒麟", "鳳凰"),  # no match: the scan reads the whole table
    "email": ("info1234@", "c777.example", "info99"),
    "phone": ("138 0012", "0013-45", "13800"),
    "latin": ("harbor", "stone traders", "summit"),
}
LABELS = {
    "cjk3": "CJK fragment, 3+ characters",
    "cjk2": "CJK fragment, 2 characters",
    "cjk2_miss": "CJK, 2 characters, no match",
    "email": "e-mail fragment",
    "phone": "phone digits",
    "latin": "English fragment",
}


@dataclass(frozen=True)
class Sizes:
    customers: int = 200_000
    rounds: int = 8  # each fragment, each round


def _plan(term: str) -> str:
    """The scan PostgreSQL chooses for a fragment (first plan line naming the table)."""
    with connection.cursor() as cursor:
        cursor.execute(
            "EXPLAIN SELECT id FROM crm_core_customer WHERE search_text LIKE %s",
            [f"%{term}%"],
        )
        lines = [row[0] for row in cursor.fetchall()]
    scan = next((line for line in lines if "crm_core_customer" in line), lines[0])
    # A child node reads "->  Parallel Seq Scan on ...  (cost=...)".
    return scan.strip().removeprefix("->").strip().split("  ")[0]


def run(sizes: Sizes, progress) -> Section:
    from accounts.models import User
    from crm_core.models import Customer
    from crm_core.selectors.search import normalise, search, typeahead

    section = Section("crm_search", f"Benchmark 5: search on {sizes.customers // 1000}k customers")
    tenant = company(SUBDOMAIN, "Bench search 搜索 検索")
    with tenant_context(tenant):
        owner = User.objects.get(is_owner=True)
        progress(f"COPY of {sizes.customers} customers for search")
        copy_into(
            tenant.schema_name,
            "crm_core_customer",
            COPY_COLUMNS,
            copy_rows(sizes.customers, owner.pk),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                sql.SQL("ANALYZE {}").format(
                    sql.Identifier(tenant.schema_name, "crm_core_customer")
                )
            )
        if Customer.objects.count() != sizes.customers:
            raise RuntimeError("the search company has the wrong number of customers")

        full = {kind: Series(f"search_{kind}", f"search: {LABELS[kind]}") for kind in FRAGMENTS}
        quick = {
            kind: Series(f"typeahead_{kind}", f"type-ahead: {LABELS[kind]}") for kind in FRAGMENTS
        }
        found: dict[str, int] = {}
        progress(f"searching, {sizes.rounds} rounds of {sum(map(len, FRAGMENTS.values()))} terms")
        for term in (t for terms in FRAGMENTS.values() for t in terms):  # warm the caches
            search(user=owner, q=term, types=["customer"], limit=20)
        gc.collect()
        for _round in range(sizes.rounds):
            for kind, terms in FRAGMENTS.items():
                for term in terms:
                    start = perf_counter_ns()
                    rows = search(user=owner, q=term, types=["customer"], limit=20)["customer"]
                    full[kind].add(perf_counter_ns() - start)
                    start = perf_counter_ns()
                    typeahead(user=owner, q=term)
                    quick[kind].add(perf_counter_ns() - start)
                    found[term] = len(rows)
        misses = set(FRAGMENTS["cjk2_miss"])
        empty = sorted(t for t, count in found.items() if (count == 0) != (t in misses))
        if empty:
            raise RuntimeError(
                f"fragments found nothing (the data or the search is wrong): {empty}"
            )
        section.facts["plan_3_chars"] = _plan(normalise(FRAGMENTS["cjk3"][0]))
        section.facts["plan_2_chars"] = _plan(normalise(FRAGMENTS["cjk2"][0]))

    section.series = [*full.values(), *quick.values()]
    section.ratios = [
        Ratio(
            "2-char no match / 3+-char",
            full["cjk2_miss"].p50 / full["cjk3"].p50,
            "p50; a full sequential scan vs trigram index",
        ),
        Ratio(
            "2-char / 3+-char, common fragments",
            full["cjk2"].p50 / full["cjk3"].p50,
            "p50; scan stopped at the candidates vs index",
        ),
        Ratio("type-ahead / search, 2-char", quick["cjk2"].p50 / full["cjk2"].p50, "p50"),
    ]
    worst_indexed = max(
        (quick[k] for k in ("cjk3", "email", "phone", "latin")), key=lambda s: s.p95
    )
    section.checks = [
        Check(
            f"type-ahead p95, worst indexed ({worst_indexed.key})",
            worst_indexed.p95,
            TYPEAHEAD_P95_LIMIT_MS,
            "ms",
        ),
        Check(
            "type-ahead p95, 2-char CJK, no match",
            quick["cjk2_miss"].p95,
            TWO_CHAR_P95_LIMIT_MS,
            "ms",
        ),
    ]
    return section
