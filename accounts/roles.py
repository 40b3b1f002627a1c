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


_EVERYONE = {Perm.VIEW_USERS, Perm.USE_API_TOKENS}

ROLE_PERMISSIONS: dict[str, frozenset[str]] = {
    Role.ADMIN: frozenset({*_EVERYONE, Perm.MANAGE_USERS, Perm.MANAGE_TEAMS, Perm.MANAGE_SETTINGS}),
    Role.MANAGER: frozenset({*_EVERYONE, Perm.MANAGE_TEAMS}),
    Role.SALES_REP: frozenset(_EVERYONE),
    Role.SERVICE_AGENT: frozenset(_EVERYONE),
    Role.READ_ONLY: frozenset({Perm.VIEW_USERS}),
}


def has_perm(user, perm: str) -> bool:
    if not (user and user.is_authenticated and user.is_active):
        return False
    return perm in ROLE_PERMISSIONS.get(user.role, frozenset())
