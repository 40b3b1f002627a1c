"""Search: CJK fragments (two characters too), e-mails, phones, ranking, visibility."""

import pytest
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.roles import Role
from crm_core.models import Contact, Customer, Lead
from crm_core.records import name_key, phone_key, search_text
from crm_core.selectors.search import search_filter
from tests.conftest import PASSWORD, client_for, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture(name="people")
def people_fixture(world):
    """In company A: two teams (east with a manager and two reps, west with a rep), an
    admin, with API tokens."""
    from accounts.services import api_token_create

    with tenant_context(world.a.tenant):
        east = Team.objects.create(name="Data east")
        west = Team.objects.create(name="Data west")
        make = User.objects.create_user
        people = {
            "admin": make("data-admin@a.example.com", PASSWORD, role=Role.ADMIN),
            "east_manager": make("data-em@a.example.com", PASSWORD, role=Role.MANAGER, team=east),
            "east_rep": make("data-er@a.example.com", PASSWORD, role=Role.SALES_REP, team=east),
            "west_rep": make("data-wr@a.example.com", PASSWORD, role=Role.SALES_REP, team=west),
        }
        east.manager = people["east_manager"]
        east.save()
        people["tokens"] = {
            key: api_token_create(user=user, name="t")[1] for key, user in list(people.items())
        }
    return people


def make_customer(owner, name, email="", phone="", **extra):
    return Customer.objects.create(
        name=name,
        email=email,
        phone=phone,
        owner=owner,
        team_id=owner.team_id if owner else None,
        name_key=name_key(name),
        phone_key=phone_key(phone),
        search_text=search_text(name, email, phone),
        **extra,
    )


def make_contact(owner, name, emails=(), phones=(), customer=None):
    return Contact.objects.create(
        name=name,
        emails=list(emails),
        phones=list(phones),
        owner=owner,
        team_id=owner.team_id if owner else None,
        customer=customer,
        name_key=name_key(name),
        search_text=search_text(name, emails, phones),
    )


def make_lead(owner, name, email="", phone=""):
    return Lead.objects.create(
        name=name,
        email=email,
        phone=phone,
        owner=owner,
        team_id=owner.team_id if owner else None,
        name_key=name_key(name),
        phone_key=phone_key(phone),
        search_text=search_text(name, email, phone),
    )


@pytest.fixture
def records(world, people):
    with tenant_context(world.a.tenant):
        rep, other = people["east_rep"], people["west_rep"]
        return {
            "huaqiang": make_customer(
                rep, "深圳华强电子有限公司", "sales@huaqiang.cn", "+86 138-0013-8000"
            ),
            "tanaka": make_contact(rep, "田中太郎", ["tanaka@example.jp"], ["03-1234-5678"]),
            "acme": make_customer(rep, "Acme Trading", "buyer@acme.example"),
            "pool": make_customer(None, "华强北公海客户"),
            "secret": make_customer(other, "华强西部客户", "west@huaqiang.cn"),
            "secret_contact": make_contact(other, "田中花子"),
            "lead": make_lead(rep, "山田リード", "yamada@lead.jp", "090 1111 2222"),
        }


def _search(world, people, who, **params):
    response = client_for(world.a, people["tokens"][who]).get("/api/v1/search/", params)
    assert response.status_code == 200, response.content
    return response.json()


def _ids(rows):
    return {row["id"] for row in rows}


def test_two_character_cjk_fragments_match(world, people, records):
    found = _search(world, people, "east_rep", q="华强")
    assert records["huaqiang"].pk in _ids(found["customer"])
    contacts = _search(world, people, "east_rep", q="田中")["contact"]
    assert _ids(contacts) == {records["tanaka"].pk}
    assert _ids(_search(world, people, "east_rep", q="山田")["lead"]) == {records["lead"].pk}
    # Three characters and more go through the trigram index; same answers.
    assert records["huaqiang"].pk in _ids(
        _search(world, people, "east_rep", q="华强电子")["customer"]
    )
    assert _ids(_search(world, people, "east_rep", q="太郎")["contact"]) == {records["tanaka"].pk}


def test_emails_phones_and_width_folding_match(world, people, records):
    assert _ids(_search(world, people, "east_rep", q="HUAQIANG.CN")["customer"]) == {
        records["huaqiang"].pk
    }
    # Phone digits, typed with other separators than stored.
    assert records["huaqiang"].pk in _ids(
        _search(world, people, "east_rep", q="138 0013")["customer"]
    )
    assert _ids(_search(world, people, "east_rep", q="1234-5678")["contact"]) == {
        records["tanaka"].pk
    }
    # Full-width letters fold to the stored half-width ones.
    assert _ids(_search(world, people, "east_rep", q="ＡＣＭＥ")["customer"]) == {
        records["acme"].pk
    }


def test_results_respect_visibility_and_show_the_pool(world, people, records):
    rep = _search(world, people, "east_rep", q="华强")["customer"]
    assert records["secret"].pk not in _ids(rep)
    pool = next(row for row in rep if row["id"] == records["pool"].pk)
    assert pool["in_pool"] is True
    assert records["secret_contact"].pk not in _ids(
        _search(world, people, "east_rep", q="田中")["contact"]
    )
    # The manager sees the team's records, the admin everything.
    assert records["secret"].pk not in _ids(
        _search(world, people, "east_manager", q="华强")["customer"]
    )
    assert records["secret"].pk in _ids(_search(world, people, "admin", q="华强")["customer"])
    # Other company: nothing of A.
    other = client_for(world.b, world.b.owner_token).get("/api/v1/search/", {"q": "华强"}).json()
    assert other["customer"] == []


def test_prefix_matches_rank_first_and_limits_hold(world, people, records):
    with tenant_context(world.a.tenant):
        rep = people["east_rep"]
        for index in range(25):
            make_customer(rep, f"老华强贸易{index}")
        starts = make_customer(rep, "华强集团")
    rows = _search(world, people, "east_rep", q="华强", types="customer", limit=20)["customer"]
    assert len(rows) == 20
    # Names starting with the fragment come before names merely containing it.
    assert [row["name"].startswith("华强") for row in rows[:2]] == [True, True]
    assert starts.pk in _ids(rows[:2])
    assert set(_search(world, people, "east_rep", q="华强", types="customer")) == {"customer"}
    typeahead = client_for(world.a, people["tokens"]["east_rep"]).get(
        "/api/v1/search/typeahead/", {"q": "华强"}
    )
    assert typeahead.status_code == 200
    rows = typeahead.json()
    assert len(rows) == 8 and rows[0]["name"].startswith("华强")


@pytest.mark.parametrize(
    ("params", "field"),
    [({}, "q"), ({"q": "华强", "types": "deal"}, "types"), ({"q": "ab", "limit": 500}, "limit")],
)
def test_bad_parameters_name_the_field(world, people, params, field):
    response = client_for(world.a, people["tokens"]["east_rep"]).get("/api/v1/search/", params)
    assert response.status_code == 400
    assert field in response.json()["error"]["fields"]


def test_one_character_finds_nothing(world, people, records):
    found = _search(world, people, "east_rep", q="华")
    assert found == {"customer": [], "contact": [], "lead": []}


def test_search_filter_for_lists(world, people, records):
    admin = people["admin"]
    with tenant_context(world.a.tenant):
        everyone = Customer.objects.all()
        assert records["huaqiang"] in search_filter(everyone, "+86 138 0013", user=admin)
        assert search_filter(everyone, "", user=admin).count() == Customer.objects.count()


def test_search_page_updates_while_typing(world, people, records):
    web = signed_in(world.a, people["east_rep"].email)
    page = web.get("/search/")
    assert page.status_code == 200
    assert b'hx-get="/search/"' in page.content and b"hx-trigger" in page.content
    results = web.get("/search/", {"q": "华强"}, HTTP_HX_REQUEST="true")
    text = results.content.decode()
    assert "深圳华强电子有限公司" in text and "华强西部客户" not in text
    assert f"/customers/{records['huaqiang'].pk}/" in text
    assert "Type at least two characters" in web.get("/search/", {"q": "华"}).content.decode()
