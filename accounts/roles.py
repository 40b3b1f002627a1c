"""Roles and the named permissions they grant: the one place permissions are decided."""

from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    ADMIN = "admin", _("Administrator")
    MANAGER = "manager", _("Sales manager")
    SALES_REP = "sales_rep", _("Sales rep")
    SERVICE_AGENT = "service_agent", _("Service agent")
    READ_ONLY = "read_only", _("Read-only")


class Perm:
    """Named permissions. Later modules add theirs here and to ROLE_PERMISSIONS."""

    VIEW_USERS = "accounts.view_users"
    MANAGE_USERS = "accounts.manage_users"  # invite, change role and team, deactivate
    MANAGE_TEAMS = "accounts.manage_teams"
    USE_API_TOKENS = "accounts.use_api_tokens"
    MANAGE_SETTINGS = "accounts.manage_settings"

    # CRM records (customers, contacts, leads, deals, activities). Which records a
    # user sees is decided by VISIBILITY below; these say what they may do with them.
    VIEW_RECORDS = "crm.view_records"
    CHANGE_RECORDS = "crm.change_records"  # create, edit the records one can see
    DELETE_RECORDS = "crm.delete_records"
    REASSIGN_RECORDS = "crm.reassign_records"  # change owner / team of visible records
    USE_POOL = "crm.use_pool"  # claim from and release to the public pool
    MANAGE_POOL_RULES = "crm.manage_pool_rules"  # pool settings, assignment rules
    MANAGE_PIPELINES = "crm.manage_pipelines"
    IMPORT_RECORDS = "crm.import_records"
    EXPORT_RECORDS = "crm.export_records"
    MERGE_RECORDS = "crm.merge_records"
    # Custom fields, picklists, layouts and field security (customization/).
    MANAGE_CUSTOM_FIELDS = "customization.manage_fields"

    # Automation: workflow rules (create, edit, enable, dry run, read every run log) and
    # approval processes.
    MANAGE_WORKFLOWS = "customization.manage_workflows"
    # Decide any pending approval step, whoever it names (an override, recorded as such).
    # Everyone else decides the steps that name them (approvals never need a permission
    # of their own: the process says who decides).
    DECIDE_ANY_APPROVAL = "approvals.decide_any"

    # Webhooks: endpoints, their secrets and the delivery log (replay, test events).
    MANAGE_WEBHOOKS = "webhooks.manage_endpoints"

    # Billing: the company's plan, card, invoices and cancellation.
    MANAGE_BILLING = "billing.manage"

    # Lead to cash. Quotes, contracts, orders and invoices are records too (VIEW/CHANGE
    # above, seen by owner and team like the others); these are the extra rights.
    MANAGE_PRODUCTS = "sales.manage_products"  # product catalogue and price lists
    RECORD_PAYMENTS = "sales.record_payments"
    VIEW_SALES_REPORTS = "sales.view_reports"  # quoted ... overdue per rep and customer
    MANAGE_SALES_SETTINGS = "sales.manage_settings"  # terms, taxes, reminders


class Visibility(models.TextChoices):
    """Which owned records a role sees (records in the public pool are seen by everyone
    who may use the pool)."""

    OWN = "own", _("own records")
    TEAM = "team", _("own and team records")
    ALL = "all", _("all records")


VISIBILITY: dict[str, str] = {
    Role.ADMIN: Visibility.ALL,
    Role.MANAGER: Visibility.TEAM,
    Role.SALES_REP: Visibility.OWN,
    Role.SERVICE_AGENT: Visibility.ALL,
    Role.READ_ONLY: Visibility.ALL,
}

_EVERYONE = {Perm.VIEW_USERS, Perm.USE_API_TOKENS, Perm.VIEW_RECORDS}  # read-only: no tokens
_SELLERS = {*_EVERYONE, Perm.CHANGE_RECORDS, Perm.USE_POOL, Perm.RECORD_PAYMENTS}
_LEADERS = {
    *_SELLERS,
    Perm.REASSIGN_RECORDS,
    Perm.DELETE_RECORDS,
    Perm.MANAGE_POOL_RULES,
    Perm.IMPORT_RECORDS,
    Perm.EXPORT_RECORDS,
    Perm.MERGE_RECORDS,
    Perm.MANAGE_PRODUCTS,
    Perm.VIEW_SALES_REPORTS,
}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset(
        {
            *_LEADERS,
            Perm.MANAGE_USERS,
            Perm.MANAGE_TEAMS,
            Perm.MANAGE_SETTINGS,
            Perm.MANAGE_PIPELINES,
            Perm.MANAGE_CUSTOM_FIELDS,
            Perm.MANAGE_WORKFLOWS,
            Perm.DECIDE_ANY_APPROVAL,
            Perm.MANAGE_WEBHOOKS,
            Perm.MANAGE_BILLING,
            Perm.MANAGE_SALES_SETTINGS,
        }
    ),
    Role.MANAGER: frozenset({*_LEADERS, Perm.MANAGE_TEAMS}),
    Role.SALES_REP: frozenset(_SELLERS),
    Role.SERVICE_AGENT: frozenset({*_EVERYONE, Perm.CHANGE_RECORDS, Perm.RECORD_PAYMENTS}),
    Role.READ_ONLY: frozenset({Perm.VIEW_USERS, Perm.VIEW_RECORDS}),
}


def visibility_of(user) -> str:
    return VISIBILITY.get(getattr(user, "role", ""), Visibility.OWN)


def has_perm(user, perm: str) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return perm in ROLE_PERMISSIONS.get(user.role, frozenset())
