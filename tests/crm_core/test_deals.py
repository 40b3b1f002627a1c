"""Pipelines, stages and deals: services (stage moves, ageing, lost reason), API, pages,
visibility (a rep cannot move another rep's deal)."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.roles import Role
from crm_core.models import Customer, Deal, DealStageChange, FieldChange, Pipeline, Stage
from crm_core.records import name_key, search_text
from crm_core.services.deals import deal_create, deal_move_stage
from crm_core.services.pipelines import pipeline_create, pipeline_ensure_default
from crm_platform.outbox.models import OutboxEvent
from tests.conftest import PASSWORD, client_for, signed_in

pytestmark = pytest.mark.django_db


@pytest.fixture
def crew(world):
    return make_crew(world)


def make_crew(world) -> dict:
    """In company A: an admin, a manager of team East with two reps, a rep of team West,
    a read-only user, an inactive user; API tokens; one customer per rep; a pipeline."""
    from accounts.services import api_token_create

    with tenant_context(world.a.tenant):
        east = Team.objects.create(name="Deals East")
        west = Team.objects.create(name="Deals West")
        make = User.objects.create_user
        crew = {
            "admin": make("d-admin@a.example.com", PASSWORD, role=Role.ADMIN),
            "east_manager": make(
                "d-em@a.example.com", PASSWORD, role=Role.MANAGER, team=east, full_name="李经理"
            ),
            "east_rep": make(
                "d-er@a.example.com", PASSWORD, role=Role.SALES_REP, team=east, full_name="王芳"
            ),
            "east_rep2": make("d-er2@a.example.com", PASSWORD, role=Role.SALES_REP, team=east),
            "west_rep": make(
                "d-wr@a.example.com", PASSWORD, role=Role.SALES_REP, team=west, full_name="佐藤"
            ),
            "viewer": make("d-ro@a.example.com", PASSWORD, role=Role.READ_ONLY),
            "gone": make("d-gone@a.example.com", PASSWORD, role=Role.SALES_REP, is_active=False),
        }
        east.manager = crew["east_manager"]
        east.save()
        crew["tokens"] = {
            key: api_token_create(user=user, name="t")[1]
            for key, user in crew.items()
            if user.is_active
        }
        crew["customers"] = {
            key: make_customer(f"{key} 客户", crew[key])
            for key in ("east_rep", "east_rep2", "west_rep")
        }
        crew["pipeline"] = pipeline_create(
            actor=crew["admin"], data={"name": "Deals test pipeline"}
        )
        crew["stages"] = {s.name: s for s in crew["pipeline"].stages.all()}
    return crew


def make_customer(name, owner):
    return Customer.objects.create(
        name=name,
        name_key=name_key(name),
        search_text=search_text(name),
        owner=owner,
        team=owner.team,
    )


def api(world, crew, who):
    return client_for(world.a, crew["tokens"][who])


def _post(client, path, body):
    return client.post(path, body, content_type="application/json")


def _new_deal(world, crew, who="east_rep", **data):
    body = {
        "name": "华强 ERP 项目",
        "pipeline_id": crew["pipeline"].pk,
        "amount": "120000.00",
        "currency": "CNY",
        **data,
    }
    return _post(api(world, crew, who), "/api/v1/deals/", body)


# --- pipelines and stages -------------------------------------------------------------


def test_ensure_default_marks_the_first_pipeline_or_creates_the_standard_one(world):
    with tenant_context(world.a.tenant):
        first = Pipeline.objects.order_by("position", "id").first()
        Pipeline.objects.update(is_default=False)
        assert pipeline_ensure_default() == first
        assert Pipeline.objects.filter(is_default=True).count() == 1
        # A company without pipelines gets the standard one.
        Deal.objects.all().delete()
        Stage.objects.all().delete()
        Pipeline.objects.all().delete()
        pipeline = pipeline_ensure_default()
        assert pipeline.is_default
        stages = list(pipeline.stages.values_list("name", "probability", "kind"))
        assert stages == [
            ("Qualification", 10, "open"),
            ("Needs analysis", 30, "open"),
            ("Proposal", 60, "open"),
            ("Negotiation", 80, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ]
        assert pipeline_ensure_default() == pipeline  # idempotent
        assert Pipeline.objects.count() == 1


def test_pipelines_api_one_default_and_manage_permission(world, crew):
    admin = api(world, crew, "admin")
    response = _post(admin, "/api/v1/pipelines/", {"name": "Renewals", "is_default": True})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["is_default"] and len(body["stages"]) == 6
    listed = admin.get("/api/v1/pipelines/").json()
    assert [p["name"] for p in listed if p["is_default"]] == ["Renewals"]
    # A rep reads but cannot change pipelines or stages.
    rep = api(world, crew, "east_rep")
    assert rep.get("/api/v1/pipelines/").status_code == 200
    assert _post(rep, "/api/v1/pipelines/", {"name": "Mine"}).status_code == 403
    stage_id = body["stages"][0]["id"]
    assert (
        rep.patch(
            f"/api/v1/stages/{stage_id}/", {"name": "x"}, content_type="application/json"
        ).status_code
        == 403
    )
    # The default cannot be switched off directly, only moved to another pipeline.
    response = admin.patch(
        f"/api/v1/pipelines/{body['id']}/", {"is_default": False}, content_type="application/json"
    )
    assert response.status_code == 400 and "is_default" in response.json()["error"]["fields"]


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"name": "Proposal"}, "name"),  # already a stage of this pipeline
        ({"name": "Pilot", "probability": 150}, "probability"),
        ({"name": "Pilot", "kind": "maybe"}, "kind"),
        ({"name": "Pilot", "colour": "red"}, "colour"),
    ],
)
def test_stage_bad_input_names_the_field(world, crew, data, field):
    body = {"pipeline": crew["pipeline"].pk, **data}
    response = _post(api(world, crew, "admin"), "/api/v1/stages/", body)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]


def test_stages_are_ordered_and_filtered_by_pipeline(world, crew):
    admin = api(world, crew, "admin")
    response = _post(
        admin,
        "/api/v1/stages/",
        {"pipeline": crew["pipeline"].pk, "name": "Pilot", "probability": 50, "position": 3},
    )
    assert response.status_code == 201, response.content
    stages = admin.get(f"/api/v1/stages/?pipeline={crew['pipeline'].pk}").json()
    assert {s["pipeline"] for s in stages} == {crew["pipeline"].pk}
    positions = [s["position"] for s in stages]
    assert positions == sorted(positions) and "Pilot" in [s["name"] for s in stages]


def test_a_stage_with_deals_cannot_be_deleted(world, crew):
    _new_deal(world, crew)
    stage = crew["stages"]["Qualification"]
    response = api(world, crew, "admin").delete(f"/api/v1/stages/{stage.pk}/")
    assert response.status_code == 400
    with tenant_context(world.a.tenant):
        assert Stage.objects.filter(pk=stage.pk).exists()


# --- deals: create, bad input ---------------------------------------------------------


def test_rep_creates_a_deal_in_the_first_open_stage_with_history_and_event(world, crew):
    customer = crew["customers"]["east_rep"]
    response = _new_deal(world, crew, customer_id=customer.pk, expected_close_date="2026-12-31")
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["stage_name"] == "Qualification" and body["probability"] == 10
    assert body["owner_id"] == crew["east_rep"].pk and body["team_id"] == crew["east_rep"].team_id
    assert body["amount"] == "120000.00" and body["customer_name"] == customer.name
    with tenant_context(world.a.tenant):
        deal = Deal.objects.get(pk=body["id"])
        assert deal.stage_entered_at is not None and deal.closed_at is None
        first = DealStageChange.objects.get(deal=deal)
        assert first.from_stage is None and first.to_stage == deal.stage
        event = OutboxEvent.objects.filter(event_type="deal.created").latest("id")
        assert event.payload["id"] == deal.pk and event.payload["amount"] == "120000.00"


def test_a_deal_without_pipeline_goes_to_the_default_pipeline(world, crew):
    with tenant_context(world.a.tenant):
        default = pipeline_ensure_default()
    response = _post(api(world, crew, "east_rep"), "/api/v1/deals/", {"name": "默认"})
    assert response.status_code == 201, response.content
    assert response.json()["pipeline_id"] == default.pk


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"name": ""}, "name"),
        ({"currency": "usd"}, "currency"),
        ({"currency": "US"}, "currency"),
        ({"amount": "-1"}, "amount"),
        ({"amount": "abc"}, "amount"),
        ({"expected_close_date": "2026-02-30"}, "expected_close_date"),
        ({"stage_id": "other-pipeline"}, "stage_id"),
        ({"finder_id": "gone"}, "finder_id"),
        ({"customer_id": "west_customer"}, "customer_id"),
        ({"stage_id": "lost"}, "lost_reason"),
        ({"search_text": "x"}, "search_text"),
        ({"owner_id": 999999}, "owner_id"),
    ],
)
def test_deal_bad_input_names_the_field_and_saves_nothing(world, crew, data, field):
    data = dict(data)
    with tenant_context(world.a.tenant):
        other = Pipeline.objects.exclude(pk=crew["pipeline"].pk).first()
        symbols = {
            "other-pipeline": other.stages.first().pk,
            "gone": crew["gone"].pk,
            "west_customer": crew["customers"]["west_rep"].pk,
            "lost": crew["stages"]["Lost"].pk,
        }
        before = Deal.objects.count()
    data = {key: symbols.get(value, value) for key, value in data.items()}
    response = _new_deal(world, crew, **data)
    assert response.status_code == 400, response.content
    assert field in response.json()["error"]["fields"]
    with tenant_context(world.a.tenant):
        assert Deal.objects.count() == before


def test_a_deal_team_member_who_left_stays_until_replaced(world, crew):
    # The finder left after the deal was made: the deal is still editable, and the
    # finder stays on it; naming someone who left is refused (above).
    deal = _new_deal(world, crew, who="east_manager", finder_id=crew["east_rep2"].pk).json()
    with tenant_context(world.a.tenant):
        Deal.objects.filter(pk=deal["id"]).update(finder=crew["gone"])
    edited = api(world, crew, "east_manager").patch(
        f"/api/v1/deals/{deal['id']}/", {"amount": "150000.00"}, "application/json"
    )
    assert edited.status_code == 200, edited.content
    assert (edited.json()["amount"], edited.json()["finder_id"]) == ("150000.00", crew["gone"].pk)


def test_a_rep_cannot_give_a_deal_to_someone_else(world, crew):
    response = _new_deal(world, crew, owner_id=crew["east_rep2"].pk)
    assert response.status_code == 403
    response = _new_deal(world, crew, who="east_manager", owner_id=crew["east_rep2"].pk)
    assert response.status_code == 201 and response.json()["owner_id"] == crew["east_rep2"].pk


# --- moving stages ----------------------------------------------------------------------


def test_move_stage_records_ageing_closes_and_history(world, crew):
    t0 = timezone.now() - timedelta(days=3)
    with tenant_context(world.a.tenant):
        rep, stages = crew["east_rep"], crew["stages"]
        deal = deal_create(
            actor=rep,
            data={"name": "Ageing", "pipeline": crew["pipeline"], "amount": Decimal("5000")},
            now=t0,
        )
        deal = deal_move_stage(
            deal=deal, stage=stages["Proposal"], actor=rep, now=t0 + timedelta(hours=1)
        )
        deal = deal_move_stage(
            deal=deal, stage=stages["Won"], actor=rep, now=t0 + timedelta(hours=3, minutes=30)
        )
        assert deal.closed_at == t0 + timedelta(hours=3, minutes=30)
        assert deal.stage_entered_at == deal.closed_at
        changes = list(DealStageChange.objects.filter(deal=deal).order_by("changed_at"))
        assert [(c.from_stage_id, c.to_stage_id, c.seconds_in_previous) for c in changes] == [
            (None, stages["Qualification"].pk, None),
            (stages["Qualification"].pk, stages["Proposal"].pk, 3600),
            (stages["Proposal"].pk, stages["Won"].pk, 9000),
        ]
        history = FieldChange.objects.filter(record_type="deal", record_id=deal.pk, field="stage")
        assert history.count() == 2 and {h.changed_by_id for h in history} == {rep.pk}
        event = OutboxEvent.objects.filter(event_type="deal.stage_changed").latest("id")
        assert event.payload["from_stage"] == "Proposal" and event.payload["to_stage"] == "Won"
        assert event.payload["from_stage_id"] == stages["Proposal"].pk
        assert event.payload["amount"] == "5000.00" and event.payload["currency"] == "CNY"
        # Reopening clears the close.
        deal = deal_move_stage(deal=deal, stage=stages["Negotiation"], actor=rep)
        assert deal.closed_at is None


def test_lost_needs_a_reason_and_another_pipelines_stage_is_refused(world, crew):
    with tenant_context(world.a.tenant):
        rep, stages = crew["east_rep"], crew["stages"]
        deal = deal_create(actor=rep, data={"name": "Lost one", "pipeline": crew["pipeline"]})
        with pytest.raises(ValidationError) as excinfo:
            deal_move_stage(deal=deal, stage=stages["Lost"], actor=rep, lost_reason="  ")
        assert "lost_reason" in excinfo.value.message_dict
        other_stage = Stage.objects.exclude(pipeline=crew["pipeline"]).first()
        with pytest.raises(ValidationError) as excinfo:
            deal_move_stage(deal=deal, stage=other_stage, actor=rep)
        assert "stage" in excinfo.value.message_dict
        assert DealStageChange.objects.filter(deal=deal).count() == 1  # nothing half-written
        deal = deal_move_stage(deal=deal, stage=stages["Lost"], actor=rep, lost_reason="价格太高")
        assert deal.lost_reason == "价格太高" and deal.closed_at is not None
        # Moving to the stage it is in changes nothing.
        again = deal_move_stage(deal=deal, stage=stages["Lost"], actor=rep, lost_reason="x")
        assert again.lost_reason == "价格太高"
        assert DealStageChange.objects.filter(deal=deal).count() == 2


def test_move_and_history_api(world, crew):
    deal_id = _new_deal(world, crew).json()["id"]
    client = api(world, crew, "east_rep")
    lost = crew["stages"]["Lost"].pk
    response = _post(client, f"/api/v1/deals/{deal_id}/move/", {"stage": lost})
    assert response.status_code == 400
    assert "lost_reason" in response.json()["error"]["fields"]
    response = _post(
        client, f"/api/v1/deals/{deal_id}/move/", {"stage": lost, "lost_reason": "预算取消"}
    )
    assert response.status_code == 200, response.content
    assert response.json()["stage_kind"] == "lost" and response.json()["lost_reason"] == "预算取消"
    assert _post(client, f"/api/v1/deals/{deal_id}/move/", {"stage": 0}).status_code == 400
    history = client.get(f"/api/v1/deals/{deal_id}/history/").json()
    assert [h["to_stage"] for h in history] == ["Qualification", "Lost"]
    assert history[1]["from_stage"] == "Qualification"
    assert history[1]["seconds_in_previous"] >= 0


def test_patching_the_stage_is_a_move_with_history(world, crew):
    deal_id = _new_deal(world, crew).json()["id"]
    response = api(world, crew, "east_rep").patch(
        f"/api/v1/deals/{deal_id}/",
        {"stage_id": crew["stages"]["Proposal"].pk, "amount": "99.5"},
        content_type="application/json",
    )
    assert response.status_code == 200, response.content
    with tenant_context(world.a.tenant):
        assert DealStageChange.objects.filter(deal_id=deal_id).count() == 2
        fields = set(
            FieldChange.objects.filter(record_type="deal", record_id=deal_id).values_list(
                "field", flat=True
            )
        )
        assert fields == {"stage", "amount"}
        assert OutboxEvent.objects.filter(
            event_type="deal.stage_changed", aggregate_id=str(deal_id)
        ).exists()


# --- visibility -------------------------------------------------------------------------


def test_a_rep_cannot_see_or_move_another_reps_deal(world, crew):
    deal_id = _new_deal(world, crew, who="west_rep").json()["id"]
    proposal = crew["stages"]["Proposal"].pk
    east = api(world, crew, "east_rep")
    assert east.get(f"/api/v1/deals/{deal_id}/").status_code == 404
    assert _post(east, f"/api/v1/deals/{deal_id}/move/", {"stage": proposal}).status_code == 404
    assert deal_id not in {r["id"] for r in east.get("/api/v1/deals/").json()["results"]}
    # Nor through the page endpoint.
    page = signed_in(world.a, "d-er@a.example.com")
    assert page.post(f"/deals/{deal_id}/move/", {"stage": proposal}).status_code == 404
    with tenant_context(world.a.tenant):
        deal = Deal.objects.get(pk=deal_id)
        with pytest.raises(PermissionDenied):
            deal_move_stage(deal=deal, stage=crew["stages"]["Proposal"], actor=crew["east_rep"])
        assert Deal.objects.get(pk=deal_id).stage.name == "Qualification"
    # Read-only users see it but cannot move it; the admin can.
    viewer = api(world, crew, "viewer")
    assert viewer.get(f"/api/v1/deals/{deal_id}/").status_code == 200
    assert _post(viewer, f"/api/v1/deals/{deal_id}/move/", {"stage": proposal}).status_code == 403
    admin = api(world, crew, "admin")
    assert _post(admin, f"/api/v1/deals/{deal_id}/move/", {"stage": proposal}).status_code == 200


def test_a_manager_sees_and_moves_the_teams_deals(world, crew):
    deal_id = _new_deal(world, crew, who="east_rep2").json()["id"]
    west_id = _new_deal(world, crew, who="west_rep").json()["id"]
    manager = api(world, crew, "east_manager")
    seen = {r["id"] for r in manager.get("/api/v1/deals/?page_size=100").json()["results"]}
    assert deal_id in seen and west_id not in seen
    response = _post(
        manager, f"/api/v1/deals/{deal_id}/move/", {"stage": crew["stages"]["Negotiation"].pk}
    )
    assert response.status_code == 200


def test_list_filters_and_page_size_cap(world, crew):
    customer = crew["customers"]["east_rep"]
    a = _new_deal(world, crew, name="Alpha 案件", expected_close_date="2026-03-01").json()["id"]
    b = _new_deal(
        world, crew, name="Beta 商談", customer_id=customer.pk, expected_close_date="2026-06-01"
    ).json()["id"]
    _post(
        api(world, crew, "east_rep"),
        f"/api/v1/deals/{b}/move/",
        {"stage": crew["stages"]["Won"].pk},
    )
    client = api(world, crew, "east_rep")

    def ids(query):
        response = client.get(f"/api/v1/deals/?{query}")
        assert response.status_code == 200, response.content
        return {row["id"] for row in response.json()["results"]}

    assert ids("status=won") == {b}
    assert a in ids("status=open") and b not in ids("status=open")
    assert ids(f"customer={customer.pk}") == {b}
    assert ids("q=案件") == {a}
    assert ids(f"q={customer.name[:4]}") == {b}
    assert ids("closing_before=2026-04-01&owner=me") == {a}
    assert ids("closing_after=2026-04-01") == {b}
    assert ids(f"stage={crew['stages']['Won'].pk}") == {b}
    assert ids(f"pipeline={crew['pipeline'].pk}&ordering=-amount") == {a, b}
    response = client.get("/api/v1/deals/?status=maybe")
    assert response.status_code == 400 and "status" in response.json()["error"]["fields"]
    response = client.get("/api/v1/deals/?page_size=1000")
    assert response.status_code == 200 and len(response.json()["results"]) <= 100


# --- pages --------------------------------------------------------------------------------


def test_board_shows_columns_with_counts_and_sums(world, crew):
    _new_deal(world, crew, name="看板 一", amount="1000")
    _new_deal(world, crew, name="看板 二", amount="2500.50")
    _new_deal(world, crew, who="west_rep", name="別チーム")
    page = signed_in(world.a, "d-er@a.example.com")
    response = page.get(f"/deals/?pipeline={crew['pipeline'].pk}")
    assert response.status_code == 200
    html = response.content.decode()
    assert "看板 一" in html and "看板 二" in html and "別チーム" not in html
    assert "2 deals" in html and "3,500.50 CNY" in html
    assert html.count('class="kanban-col') == 6
    # Another currency in the same column: a sum per currency, never one mixed total.
    _new_deal(world, crew, name="Dollar deal", amount="700", currency="USD")
    html = page.get(f"/deals/?pipeline={crew['pipeline'].pk}").content.decode()
    assert "3,500.50 CNY" in html and "700.00 USD" in html and "4,200.50" not in html


def test_dropping_a_card_moves_it_and_answers_the_board(world, crew):
    deal_id = _new_deal(world, crew, name="拖动").json()["id"]
    page = signed_in(world.a, "d-er@a.example.com")
    negotiation = crew["stages"]["Negotiation"]
    response = page.post(
        f"/deals/{deal_id}/move/?pipeline={crew['pipeline'].pk}",
        {"stage": negotiation.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    html = response.content.decode()
    assert html.startswith('<div id="board"') and f'id="deal-{deal_id}"' in html
    assert f'data-deal="{deal_id}" data-stage="{negotiation.pk}"' in html
    # A lost column without a reason: the board says why and nothing moves.
    response = page.post(
        f"/deals/{deal_id}/move/", {"stage": crew["stages"]["Lost"].pk}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200 and "Give the lost reason." in response.content.decode()
    with tenant_context(world.a.tenant):
        assert Deal.objects.get(pk=deal_id).stage == negotiation


def test_no_js_move_form_redirects_back(world, crew):
    deal_id = _new_deal(world, crew).json()["id"]
    page = signed_in(world.a, "d-er@a.example.com")
    response = page.post(
        f"/deals/{deal_id}/move/",
        {"stage": crew["stages"]["Lost"].pk, "lost_reason": "竞争对手", "next": "/deals/"},
    )
    assert response.status_code == 302 and response["Location"] == "/deals/"
    response = page.post(
        f"/deals/{deal_id}/move/",
        {"stage": crew["stages"]["Won"].pk, "next": "https://evil.example.com/"},
    )
    assert response.status_code == 302 and response["Location"] == f"/deals/{deal_id}/"


def test_deal_page_shows_history_and_create_and_edit_pages_save(world, crew):
    page = signed_in(world.a, "d-er@a.example.com")
    assert page.get("/deals/new/").status_code == 200
    response = page.post(
        "/deals/new/",
        {
            "name": "页面商机",
            "customer": crew["customers"]["east_rep"].pk,
            "stage": crew["stages"]["Proposal"].pk,
            "amount": "300",
            "currency": "JPY",
            "expected_close_date": "2026-12-01",
        },
    )
    assert response.status_code == 302, response.content.decode()[:2000]
    deal_id = int(response["Location"].rstrip("/").split("/")[-1])
    response = page.get(f"/deals/{deal_id}/")
    html = response.content.decode()
    assert response.status_code == 200 and "页面商机" in html and "Stage history" in html
    assert "Proposal" in html
    # Bad input on the edit page: field-level message, nothing saved.
    response = page.post(
        f"/deals/{deal_id}/edit/",
        {
            "name": "页面商机",
            "stage": crew["stages"]["Proposal"].pk,
            "amount": "1",
            "currency": "x",
        },
    )
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    response = page.post(
        f"/deals/{deal_id}/edit/",
        {
            "name": "页面商机 2",
            "stage": crew["stages"]["Won"].pk,
            "amount": "350",
            "currency": "JPY",
        },
    )
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        deal = Deal.objects.get(pk=deal_id)
        assert deal.stage.kind == "won" and deal.amount == Decimal("350.00")
        assert deal.stage_changes.count() == 2
    html = page.get(f"/deals/{deal_id}/").content.decode()
    assert "Field history" in html and "Proposal → Won" in html


def test_pipelines_page_is_for_admins_and_shows_field_errors(world, crew):
    assert signed_in(world.a, "d-er@a.example.com").get("/pipelines/").status_code == 403
    admin = signed_in(world.a, "d-admin@a.example.com")
    response = admin.get("/pipelines/")
    assert response.status_code == 200 and "Deals test pipeline" in response.content.decode()
    pk = crew["pipeline"].pk
    prefix = f"new-stage-{pk}"
    response = admin.post(
        f"/pipelines/{pk}/stages/",
        {
            f"{prefix}-name": "Pilot",
            f"{prefix}-position": 2,
            f"{prefix}-probability": 101,
            f"{prefix}-kind": "open",
        },
    )
    assert response.status_code == 400 and "errorlist" in response.content.decode()
    response = admin.post(
        f"/pipelines/{pk}/stages/",
        {
            f"{prefix}-name": "Pilot",
            f"{prefix}-position": 2,
            f"{prefix}-probability": 40,
            f"{prefix}-kind": "open",
        },
    )
    assert response.status_code == 302
    response = admin.post(
        "/pipelines/", {"new-pipeline-name": "大客户", "new-pipeline-is_default": "on"}
    )
    assert response.status_code == 302
    with tenant_context(world.a.tenant):
        assert crew["pipeline"].stages.filter(name="Pilot", probability=40).exists()
        assert Pipeline.objects.get(is_default=True).name == "大客户"


def test_delete_needs_the_right_and_keeps_customer_activities(world, crew):
    customer = crew["customers"]["east_rep"]
    deal_id = _new_deal(world, crew, customer_id=customer.pk).json()["id"]
    response = _post(
        api(world, crew, "east_rep"),
        "/api/v1/activities/",
        {"kind": "call", "subject": "留在客户上", "deal_id": deal_id},
    )
    assert response.status_code == 201, response.content
    assert api(world, crew, "east_rep").delete(f"/api/v1/deals/{deal_id}/").status_code == 403
    assert api(world, crew, "east_manager").delete(f"/api/v1/deals/{deal_id}/").status_code == 204
    with tenant_context(world.a.tenant):
        assert not Deal.objects.filter(pk=deal_id).exists()
        assert customer.activities.filter(subject="留在客户上", deal__isnull=True).exists()
        assert OutboxEvent.objects.filter(
            event_type="deal.deleted", aggregate_id=str(deal_id)
        ).exists()


def test_page_move_with_a_garbage_stage_is_an_error_not_a_crash(world, crew):
    deal_id = _new_deal(world, crew).json()["id"]
    page = signed_in(world.a, "d-er@a.example.com")
    response = page.post(f"/deals/{deal_id}/move/", {"stage": "abc"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and "Choose a stage." in response.content.decode()


def test_bulk_create_and_update_all_or_nothing(world, crew):
    client = api(world, crew, "east_rep")
    pipeline = crew["pipeline"].pk
    existing = _new_deal(world, crew).json()["id"]
    response = _post(
        client,
        "/api/v1/deals/bulk/",
        {
            "items": [
                {"name": "批量 一", "pipeline_id": pipeline, "amount": "10"},
                {"id": existing, "stage_id": crew["stages"]["Proposal"].pk},
            ]
        },
    )
    assert response.status_code == 200, response.content
    body = response.json()
    assert body[0]["name"] == "批量 一" and body[1]["stage_name"] == "Proposal"
    with tenant_context(world.a.tenant):
        before = Deal.objects.count()
    other = crew["customers"]["west_rep"].pk
    response = _post(
        client,
        "/api/v1/deals/bulk/",
        {
            "items": [
                {"name": "批量 二", "pipeline_id": pipeline},
                {"name": "批量 三", "pipeline_id": pipeline, "customer_id": other},
                {"name": "", "pipeline_id": pipeline},
            ]
        },
    )
    assert response.status_code == 400
    assert {"1.customer_id", "2.name"} <= set(response.json()["error"]["fields"])
    with tenant_context(world.a.tenant):
        assert Deal.objects.count() == before
    response = _post(client, "/api/v1/deals/bulk/", {"items": [{"name": "x"}] * 101})
    assert response.status_code == 400 and "items" in response.json()["error"]["fields"]


def test_cursor_pages_by_amount_visit_every_deal_once(world, crew):
    made = {_new_deal(world, crew, amount=amount).json()["id"] for amount in ("5", "5", "7", "1")}
    client = api(world, crew, "east_rep")
    seen, url = [], f"/api/v1/deals/?pipeline={crew['pipeline'].pk}&ordering=-amount&page_size=1"
    while url:
        body = client.get(url).json()
        seen += [(row["id"], row["amount"]) for row in body["results"]]
        url = body["next"]
    assert {pk for pk, _amount in seen} == made and len(seen) == 4
    assert [amount for _pk, amount in seen] == ["7.00", "5.00", "5.00", "1.00"]


def test_the_list_and_the_board_do_not_query_per_row(world, crew, django_assert_max_num_queries):
    for index in range(12):
        _new_deal(world, crew, name=f"N+1 {index}", customer_id=crew["customers"]["east_rep"].pk)
    client = api(world, crew, "east_rep")
    with django_assert_max_num_queries(12):
        assert len(client.get("/api/v1/deals/?page_size=50").json()["results"]) >= 12
    page = signed_in(world.a, "d-er@a.example.com")
    with django_assert_max_num_queries(25):
        assert page.get(f"/deals/?pipeline={crew['pipeline'].pk}").status_code == 200


def test_the_board_filters_by_a_custom_field(world, crew):
    from customization.services import definition_create

    with tenant_context(world.a.tenant):
        definition_create(
            actor=crew["admin"],
            entity="deal",
            data={
                "api_name": "contract_value",
                "label": "Contract value",
                "field_type": "currency",
            },
        )
    _new_deal(world, crew, name="看板 大", custom_fields={"contract_value": "900000"})
    _new_deal(world, crew, name="看板 小", custom_fields={"contract_value": "10"})
    page = signed_in(world.a, "d-er@a.example.com")
    board = f"/deals/?pipeline={crew['pipeline'].pk}"
    html = page.get(board + "&ff=contract_value&fo=gte&fv=1000").content.decode()
    assert "看板 大" in html and "看板 小" not in html
    assert 'name="ff"' in html and "1 deal" in html
    bad = page.get(board + "&ff=contract_value&fo=gte&fv=lots").content.decode()
    assert "看板 大" not in bad and 'class="error"' in bad  # the bar says why
