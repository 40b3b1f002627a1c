"""Lean list pages served from the per-shape statement cache (crm_platform.kernel.lean_rows).

The suite sets `lean_rows.VERIFY`, so every page served from the cache here is also
compared with Django's own compile of the same queryset; these tests make the same
shapes repeat with different readers, parameters, cursors and companies.
"""

import pytest
from django_tenants.utils import tenant_context

from crm_core.selectors.customers import customer_rows
from crm_platform.kernel import lean_rows
from tests.conftest import client_for
from tests.crm_core.test_search import (  # noqa: F401 (people_fixture: the "people" fixture)
    make_customer,
    people_fixture,
)

pytestmark = pytest.mark.django_db


def _names(response) -> list[str]:
    assert response.status_code == 200, response.content[:300]
    return [row["name"] for row in response.json()["results"]]


def _all_pages(client, url: str) -> list[str]:
    names = []
    while url:
        response = client.get(url)
        names += _names(response)
        url = response.json()["next"]
    return names


@pytest.fixture
def lean_customers(world, people):
    with tenant_context(world.a.tenant):
        for index in range(3):
            make_customer(people["east_rep"], f"Lean east {index}")
            make_customer(people["west_rep"], f"Lean west {index}")
        make_customer(None, "Lean pool 0")
    with tenant_context(world.b.tenant):
        from accounts.models import User

        make_customer(User.objects.get(is_owner=True), "Lean bravo 0")


def test_same_shape_different_readers_and_cursors(world, people, lean_customers):
    lean_rows._statements.clear()
    url = "/api/v1/customers/?page_size=2&f.name.contains=Lean"
    tokens = people["tokens"]
    seen = {}
    for _round in range(2):  # the second round is served from the cache
        for who in ("admin", "east_manager", "east_rep", "west_rep"):
            seen[who, _round] = _all_pages(client_for(world.a, tokens[who]), url)
    assert lean_rows._statements, "lean pages were not served through the statement cache"
    for who in ("admin", "east_manager", "east_rep", "west_rep"):
        assert seen[who, 0] == seen[who, 1]
    east = ["Lean east 0", "Lean east 1", "Lean east 2"]
    west = ["Lean west 0", "Lean west 1", "Lean west 2"]
    assert sorted(seen["admin", 1]) == sorted([*east, *west, "Lean pool 0"])
    # Same statement, other parameters: each reader gets their own records (and the pool).
    assert sorted(seen["east_rep", 1]) == [*east, "Lean pool 0"]
    assert sorted(seen["west_rep", 1]) == ["Lean pool 0", *west]
    assert sorted(seen["east_manager", 1]) == [*east, "Lean pool 0"]
    # Newest first, as Django orders the page.
    assert seen["admin", 1][0] == "Lean pool 0"


def test_same_statement_in_two_companies_reads_each_ones_schema(world, people, lean_customers):
    url = "/api/v1/customers/?page_size=50&f.name.contains=Lean"
    for _round in range(2):
        alpha = _names(client_for(world.a, world.a.owner_token).get(url))
        bravo = _names(client_for(world.b, world.b.owner_token).get(url))
        assert "Lean bravo 0" not in alpha and len(alpha) == 7
        assert bravo == ["Lean bravo 0"]


@pytest.mark.parametrize(
    "query",
    [
        "ordering=name",
        "ordering=-updated_at&owner=me",
        "q=lean&is_key_account=false",
        "f.name.in=Lean east 0,Lean west 1",
        "owner=pool",
    ],
)
def test_filters_and_orderings_match_django(world, people, lean_customers, query):
    client = client_for(world.a, people["tokens"]["east_manager"])
    url = f"/api/v1/customers/?page_size=2&{query}"
    first, second = _all_pages(client, url), _all_pages(client, url)
    assert first == second


def test_what_the_cache_does_not_cover_is_left_to_django(world, people, lean_customers):
    """A field ordering annotates its sort key: Django compiles that statement itself."""
    lean_rows._statements.clear()
    client = client_for(world.a, people["tokens"]["admin"])
    url = "/api/v1/customers/?page_size=3&ordering=-email&f.name.contains=Lean"
    names = _all_pages(client, url)
    assert len(names) == 7
    assert lean_rows._statements == {}
    with tenant_context(world.a.tenant):
        whole = lean_rows.lean(customer_rows(user=people["admin"], filters={}))
        with pytest.raises(TypeError):
            lean_rows.lean(whole.model.objects.all())
        # Not sliced: fetched by Django (in chunks), not cached.
        assert len(list(whole.filter(name__startswith="Lean"))) == 7
    assert lean_rows._statements == {}


def test_json_columns_load_as_django_loads_them():
    """orjson for plain JSONFields; what orjson refuses falls back to json.loads."""
    assert lean_rows._load_json('{"a": [1, 2.5, "x", null]}', None, None) == {
        "a": [1, 2.5, "x", None]
    }
    assert lean_rows._load_json(None, None, None) is None
    assert lean_rows._load_json("1e400", None, None) == float("inf")  # as json.loads
