"""The demo company's sample CRM data (crm_core.demo, seeded by tenants.demo)."""

import re
import time
from datetime import UTC, datetime

import pytest
from django.conf import settings
from django.db import transaction
from django.db.models import Max
from django.urls import NoReverseMatch, reverse
from django.utils import timezone
from django_tenants.utils import tenant_context

from accounts.models import User
from accounts.roles import Role
from accounts.services import team_save
from crm_core.demo import demo_crm_seed
from crm_core.models import (
    Activity,
    AssignmentRule,
    Contact,
    Customer,
    Deal,
    DealStageChange,
    Lead,
    Pipeline,
    PoolMove,
    PoolSettings,
    Stage,
)
from crm_core.records import name_key, phone_key, search_text
from tenants.demo import DEMO_OWNER_EMAIL, SAMPLE_PEOPLE, demo_seed
from tenants.provisioning import pool_refill
from tenants.services import tenant_signup
from tests.conftest import PASSWORD, signed_in

pytestmark = pytest.mark.django_db

HAN = re.compile(r"[\u4e00-\u9fff]")
KANA = re.compile(r"[\u3040-\u30ff]")
LATIN = re.compile(r"^[A-Za-z][A-Za-z .,'-]+$")


def _new_company(subdomain: str):
    """A fresh company of its own (the world's companies' row counts must not change)."""
    pool_refill(target=1)
    return tenant_signup(
        company_name="Demo test", subdomain=subdomain, email=DEMO_OWNER_EMAIL, password=PASSWORD
    ).tenant


@pytest.fixture
def demo_company(world):
    tenant = _new_company("demo-seed-test")
    demo_seed(tenant, password=PASSWORD)
    return tenant


def test_demo_company_has_deals_in_every_stage_with_their_history(demo_company):
    with tenant_context(demo_company):
        default = Pipeline.objects.get(is_default=True)
        assert default.name == "Standard sales"
        assert list(default.stages.values_list("name", "probability", "kind")) == [
            ("Qualification", 10, "open"),
            ("Needs analysis", 30, "open"),
            ("Proposal", 60, "open"),
            ("Negotiation", 80, "open"),
            ("Won", 100, "won"),
            ("Lost", 0, "lost"),
        ]
        assert Pipeline.objects.filter(name="Renewals").exists()
        for stage in Stage.objects.all():
            assert Deal.objects.filter(stage=stage).exists(), stage.name
        assert set(Deal.objects.values_list("currency", flat=True)) == {"CNY", "JPY", "USD"}
        for deal in Deal.objects.select_related("stage", "owner"):
            changes = list(deal.stage_changes.all())
            assert changes[0].from_stage is None and changes[-1].to_stage == deal.stage
            assert changes[-1].changed_at == deal.stage_entered_at
            assert all(c.seconds_in_previous > 0 for c in changes[1:])
            assert deal.team_id == deal.owner.team_id
            assert deal.amount > 0
            if deal.stage.kind == Stage.Kind.LOST:
                assert deal.lost_reason and deal.closed_at
            elif deal.stage.kind == Stage.Kind.WON:
                assert not deal.lost_reason and deal.closed_at and deal.delivery_owner_id
            else:
                assert deal.closed_at is None and deal.expected_close_date
                assert deal.finder_id


def test_demo_customers_are_varied_and_their_derived_fields_right(demo_company):
    with tenant_context(demo_company):
        customers = list(Customer.objects.select_related("owner"))
        assert len(customers) >= 60
        names = [c.name for c in customers]
        assert "上海明华贸易有限公司" in names and "株式会社サクラ精工" in names
        assert "Northwind Traders" in names
        assert any(HAN.search(n) and not KANA.search(n) for n in names)
        assert any(KANA.search(n) for n in names)
        assert any(LATIN.match(n) for n in names)
        assert {c.relationship_stage for c in customers} == set(Customer.RelationshipStage)
        assert {c.value_tier for c in customers} == set(Customer.ValueTier)
        assert {c.kind for c in customers} == set(Customer.Kind)
        assert any(c.is_key_account for c in customers)
        assert any(c.tags for c in customers) and all(c.addresses for c in customers)
        assert any(c.owner is None for c in customers), "some customers in the public pool"
        for customer in customers:
            assert customer.name_key == name_key(customer.name)
            assert customer.phone_key == phone_key(customer.phone)
            assert customer.search_text == search_text(
                customer.name, customer.email, customer.phone
            )
            assert customer.team_id == (customer.owner.team_id if customer.owner else None)
        latest = dict(
            Activity.objects.filter(customer__isnull=False)
            .exclude(kind="task")
            .values_list("customer_id")
            .annotate(latest=Max("created_at"))
        )
        for customer in customers:
            if customer.owner_id:
                assert customer.last_activity_at == latest[customer.pk], customer.name
        # Every customer's owner is a real seller (or the admin for North America).
        sellers = set(
            User.objects.filter(role__in=[Role.MANAGER, Role.SALES_REP, Role.ADMIN]).values_list(
                "pk", flat=True
            )
        )
        assert {c.owner_id for c in customers if c.owner_id} <= sellers
        assert len({c.owner_id for c in customers if c.owner_id}) >= 4


def test_demo_contacts_leads_pool_and_activities(demo_company):
    today = timezone.localdate()
    with tenant_context(demo_company):
        contacts = Contact.objects.all()
        assert contacts.count() >= 100
        for customer in Customer.objects.filter(kind="company"):
            assert 2 <= customer.contacts.count() <= 3
        assert contacts.filter(birthday__month=today.month, birthday__day=today.day).exists()
        assert set(contacts.values_list("decision_role", flat=True)) >= {
            "decision_maker",
            "influencer",
            "user",
            "gatekeeper",
        }
        for contact in contacts:
            assert contact.search_text == search_text(contact.name, contact.emails, contact.phones)

        leads = Lead.objects.all()
        assert 35 <= leads.count() <= 45
        assert set(leads.values_list("status", flat=True)) == set(Lead.Status)
        assert set(leads.values_list("purchase_window", flat=True)) >= {"now", "3m", "6m", "12m"}
        pool = leads.filter(owner__isnull=True)
        assert pool.count() >= 8 and all(lead.pool_entered_at for lead in pool)
        assert PoolMove.objects.filter(record_type="lead").count() == pool.count()
        for lead in leads.filter(status="qualified"):
            assert lead.has_money and lead.has_authority and lead.has_need
        for lead in leads.filter(status="converted"):
            deal = lead.converted_deal
            assert (
                deal.customer == lead.converted_customer and deal.contact == lead.converted_contact
            )

        activities = Activity.objects.all()
        assert set(activities.values_list("kind", flat=True)) == set(Activity.Kind)
        now = timezone.now()
        assert activities.filter(kind="task", done_at__isnull=True, due_at__lt=now).exists()
        assert activities.filter(kind="task", done_at__isnull=True, due_at__gt=now).exists()
        assert activities.filter(kind="meeting", starts_at__gt=now).exists()
        assert activities.filter(created_at__lt=now - timezone.timedelta(days=45)).exists()
        assert not activities.filter(kind="visit", check_in_place="").exists()
        assert not activities.filter(created_at__gt=now).exists()

        settings_row = PoolSettings.objects.get()
        assert settings_row.return_after_days == 30 and settings_row.auto_return_enabled
        assert AssignmentRule.objects.filter(entity="lead", is_active=True).count() >= 2


def _fingerprint() -> list:
    """Everything seeded, without database ids (sequences differ between runs)."""
    return [
        list(
            Customer.objects.order_by("name").values_list(
                "name", "owner__email", "team__name", "region__name", "value_tier",
                "relationship_stage", "email", "phone", "tags", "birthday", "created_at",
                "last_activity_at",
            )
        ),
        list(
            Contact.objects.order_by("customer__name", "name").values_list(
                "customer__name", "name", "job_title", "emails", "phones", "birthday"
            )
        ),
        list(
            Lead.objects.order_by("created_at", "name").values_list(
                "name", "company_name", "owner__email", "status", "has_money", "purchase_window"
            )
        ),
        list(
            Deal.objects.order_by("created_at").values_list(
                "name", "customer__name", "stage__name", "amount", "currency",
                "expected_close_date", "lost_reason", "stage_entered_at", "finder__email",
            )
        ),
        list(
            DealStageChange.objects.order_by("changed_at").values_list(
                "deal__name", "to_stage__name", "changed_at", "seconds_in_previous"
            )
        ),
        sorted(
            Activity.objects.values_list(
                "kind", "subject", "assignee__email", "customer__name", "lead__name",
                "due_at", "starts_at", "done_at", "check_in_place",
            ),
            key=repr,
        ),
    ]  # fmt: skip


def _people() -> None:
    """The demo company's people, as tenants.demo creates them, without its records."""
    teams = {}
    for email, name, role, team_name in SAMPLE_PEOPLE:
        team = None
        if team_name:
            team = teams.get(team_name) or team_save(name=team_name, manager=None)
            teams[team_name] = team
        User.objects.create_user(email, None, full_name=name, role=role, team=team)


def test_seeding_is_deterministic_and_fast(world):
    tenant = _new_company("demo-repeat-test")
    now = datetime(2026, 3, 14, 9, 30, tzinfo=UTC)
    runs = []
    with tenant_context(tenant):
        _people()
        for seed in (7, 7, 8):
            with transaction.atomic():
                start = time.perf_counter()
                counts = demo_crm_seed(seed=seed, now=now)
                elapsed = time.perf_counter() - start
                runs.append((_fingerprint(), counts))
                transaction.set_rollback(True)
            assert elapsed < 3, f"seeding took {elapsed:.2f} s"
    assert runs[0] == runs[1]
    assert runs[0][0] != runs[2][0], "another seed gives other data"
    assert runs[0][1]["customers"] >= 60 and runs[0][1]["deals"] >= 30


def test_seeding_a_company_with_only_its_owner(world):
    tenant = _new_company("demo-owner-only")
    with tenant_context(tenant):
        demo_crm_seed()
        owner = User.objects.get()
        assert set(Customer.objects.values_list("owner", flat=True)) == {owner.pk, None}
        assert Deal.objects.filter(owner=owner).count() == Deal.objects.count() > 0
        assert not AssignmentRule.objects.exists()  # no team to round-robin in


PAGES = ("customers", "contacts", "leads", "pool", "deals", "activities", "calendar")


@pytest.mark.parametrize("email", [DEMO_OWNER_EMAIL, "zhang.min@demo.example.com"])
def test_demo_pages_show_the_sample_records(demo_company, email):
    """The demo company's main pages render with its data, for the owner and a rep."""
    client = signed_in(demo_company.host, email)
    shown = 0
    for name in PAGES:
        try:
            path = reverse(f"crm:{name}", urlconf=settings.ROOT_URLCONF)
        except NoReverseMatch:
            continue  # that area has no page yet
        response = client.get(path)
        assert response.status_code == 200, (name, response.status_code)
        shown += 1
    assert shown >= 1
    customers = client.get(reverse("crm:customers", urlconf=settings.ROOT_URLCONF))
    if email == DEMO_OWNER_EMAIL:
        assert "Northwind Traders" in customers.content.decode()


def test_demo_workflow_rule_gives_the_manager_a_review_task(demo_company):
    from crm_core.services.deals import deal_move_stage
    from crm_platform.outbox.services import outbox_dispatch_pending
    from customization.workflows.engine import runs_process_records
    from customization.workflows.models import WorkflowRun

    with tenant_context(demo_company):
        negotiation = Stage.objects.get(pipeline__is_default=True, name="Negotiation")
        deal = (
            Deal.objects.filter(
                stage__pipeline=negotiation.pipeline,
                stage__position__lt=negotiation.position,
                customer__value_tier="A",
                owner__team__manager__isnull=False,
            )
            .select_related("owner__team__manager")
            .first()
        )
        manager = deal.owner.team.manager
        deal_move_stage(deal=deal, stage=negotiation, actor=manager)
        outbox_dispatch_pending()  # the run is written; the worker's part follows
        runs_process_records(records=[("deal", deal.pk)])
        run = WorkflowRun.objects.get(record_type="deal", record_id=deal.pk)
        assert run.status == WorkflowRun.Status.SUCCEEDED, run.error
        task = Activity.objects.get(deal=deal, kind="task", subject__startswith="Review the offer")
        assert (task.subject, task.assignee, task.priority) == (
            f"Review the offer for {deal.name}",
            manager,
            "high",
        )
