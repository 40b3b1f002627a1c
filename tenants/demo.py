"""The demo company `make run` creates, with sample people and teams.

`demo_seed` creates the people, then the CRM's sample records (crm_core.demo).
"""

from django.db import transaction
from django_tenants.utils import tenant_context

from accounts.models import Team, User
from accounts.roles import Role
from accounts.services import team_save
from crm_core.demo import demo_crm_seed

from .models import Tenant
from .services import tenant_signup

DEMO_SUBDOMAIN = "demo"
DEMO_OWNER_EMAIL = "owner@demo.example.com"

SAMPLE_PEOPLE = [
    # (e-mail, name, role, team)
    ("li.wei@demo.example.com", "李伟", Role.MANAGER, "华东销售部"),
    ("zhang.min@demo.example.com", "张敏", Role.SALES_REP, "华东销售部"),
    ("sato.yuki@demo.example.com", "佐藤 由紀", Role.MANAGER, "東京営業部"),
    ("tanaka.ken@demo.example.com", "田中 健", Role.SALES_REP, "東京営業部"),
    ("emma.clark@demo.example.com", "Emma Clark", Role.SERVICE_AGENT, "Customer Care"),
    ("auditor@demo.example.com", "Read-only Auditor", Role.READ_ONLY, None),
]


def demo_tenant_ensure(*, password: str) -> tuple[Tenant, bool]:
    """Create the demo company once; returns (tenant, created)."""
    tenant = Tenant.objects.filter(subdomain=DEMO_SUBDOMAIN).first()
    if tenant is not None:
        return tenant, False
    result = tenant_signup(
        company_name="Demo 示例公司 デモ株式会社",
        subdomain=DEMO_SUBDOMAIN,
        email=DEMO_OWNER_EMAIL,
        password=password,
    )
    tenant = result.tenant
    if tenant.status == Tenant.Status.PROVISIONING:
        from .services import tenant_provision

        tenant = tenant_provision(tenant_id=tenant.pk)
    demo_seed(tenant, password=password)
    return tenant, True


@transaction.atomic
def demo_seed(tenant: Tenant, *, password: str) -> None:
    with tenant_context(tenant):
        owner = User.objects.get(email=DEMO_OWNER_EMAIL)
        owner.full_name = "Demo Owner"
        owner.save(update_fields=["full_name"])
        teams: dict[str, Team] = {}
        for email, name, role, team_name in SAMPLE_PEOPLE:
            team = None
            if team_name:
                team = teams.get(team_name) or team_save(name=team_name, manager=None)
                teams[team_name] = team
            user = User.objects.create_user(email, password, full_name=name, role=role, team=team)
            if role == Role.MANAGER and team and team.manager is None:
                team_save(team=team, name=team.name, manager=user)
        # Customers, contacts, leads, deals and activities owned by the people above.
        demo_crm_seed()
