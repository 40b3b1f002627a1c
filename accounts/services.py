"""Writes about people: owners, invitations, roles and teams, API tokens."""

from datetime import datetime, timedelta

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.db import connection, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from crm_platform.outbox.services import outbox_record

from .models import ApiToken, Invitation, Team, User
from .roles import Role
from .tokens import api_token_generate


def _field_error(field: str, message: str) -> ValidationError:
    return ValidationError({field: [message]})


def user_create_owner(
    *,
    email: str,
    full_name: str = "",
    password: str | None = None,
    password_hash: str | None = None,
    language: str = "",
) -> User:
    """The company's first user: administrator and owner. Runs inside a tenant schema."""
    user = User(
        email=email.lower(), full_name=full_name, role=Role.ADMIN, is_owner=True, language=language
    )
    if password_hash:
        user.password = password_hash
    else:
        user.set_password(password)
    user.save()
    return user


def api_token_create(
    *, user: User, name: str, expires_at: datetime | None = None, key: tuple[str, str] | None = None
) -> tuple[ApiToken, str | None]:
    """Create a token; returns it with the raw key (shown once, never stored).

    `key` = (prefix, hash) adopts a token generated earlier (signup while provisioning).
    """
    name = (name or "").strip()
    if not name:
        raise _field_error("name", _("Give the token a name."))
    if expires_at is not None and expires_at <= timezone.now():
        raise _field_error("expires_at", _("The expiry date must be in the future."))
    if key:
        raw, (prefix, key_hash) = None, key
    else:
        raw, prefix, key_hash = api_token_generate()
    token = ApiToken.objects.create(
        user=user, name=name, prefix=prefix, key_hash=key_hash, expires_at=expires_at
    )
    return token, raw


def api_token_revoke(*, token: ApiToken) -> ApiToken:
    if token.revoked_at is None:
        token.revoked_at = timezone.now()
        token.save(update_fields=["revoked_at"])
    return token


def _check_team(team: Team | None) -> None:
    if team is not None and not Team.objects.filter(pk=team.pk).exists():
        raise _field_error("team", _("Unknown team."))


@transaction.atomic
def invitation_create(*, email: str, role: str, team: Team | None, invited_by: User) -> Invitation:
    email = (email or "").strip().lower()
    try:
        validate_email(email)
    except ValidationError:
        raise _field_error("email", _("Enter a valid e-mail address.")) from None
    if role not in Role.values:
        raise _field_error("role", _("Unknown role."))
    _check_team(team)
    if User.objects.filter(email=email).exists():
        raise _field_error("email", _("A user with this e-mail already exists."))
    # An expired invitation no longer blocks a new one.
    Invitation.objects.filter(
        email=email,
        accepted_at__isnull=True,
        revoked_at__isnull=True,
        expires_at__lte=timezone.now(),
    ).update(revoked_at=timezone.now())
    if Invitation.objects.filter(
        email=email, accepted_at__isnull=True, revoked_at__isnull=True
    ).exists():
        raise _field_error("email", _("This person has already been invited."))
    from billing.selectors import user_limit_reached  # the plan's limit (billing owns plans)

    if limit := user_limit_reached(schema_name=connection.schema_name):
        raise _field_error(
            "email", _("Your plan allows at most %(count)s users.") % {"count": limit}
        )
    invitation = Invitation.objects.create(
        email=email,
        role=role,
        team=team,
        invited_by=invited_by,
        expires_at=timezone.now() + timedelta(days=settings.INVITATION_MAX_AGE_DAYS),
    )
    outbox_record(
        event_type="user.invited",
        aggregate_type="invitation",
        aggregate_id=invitation.pk,
        payload={"email": email, "role": role},
    )
    return invitation


def invitation_revoke(*, invitation: Invitation) -> Invitation:
    if invitation.accepted_at is None and invitation.revoked_at is None:
        invitation.revoked_at = timezone.now()
        invitation.save(update_fields=["revoked_at", "updated_at"])
    return invitation


@transaction.atomic
def invitation_accept(*, invitation: Invitation, full_name: str, password: str) -> User:
    invitation = Invitation.objects.select_for_update().get(pk=invitation.pk)
    if not invitation.is_open:
        raise ValidationError(_("This invitation is no longer valid."))
    full_name = (full_name or "").strip()
    errors: dict[str, list[str]] = {}
    if not full_name:
        errors["full_name"] = [_("Enter your name.")]
    try:
        validate_password(password, User(email=invitation.email, full_name=full_name))
    except ValidationError as exc:
        errors["password"] = list(exc.messages)
    if errors:
        raise ValidationError(errors)
    if User.objects.filter(email=invitation.email).exists():
        raise _field_error("email", _("A user with this e-mail already exists."))
    user = User.objects.create_user(
        invitation.email, password, full_name=full_name, role=invitation.role, team=invitation.team
    )
    invitation.accepted_at = timezone.now()
    invitation.save(update_fields=["accepted_at", "updated_at"])
    outbox_record(
        event_type="user.joined",
        aggregate_type="user",
        aggregate_id=user.pk,
        payload={"email": user.email, "role": user.role},
    )
    return user


_NOT_PROVIDED = object()


@transaction.atomic
def user_update(
    *,
    user: User,
    actor: User,
    role: str | None = None,
    team=_NOT_PROVIDED,
    is_active: bool | None = None,
    full_name: str | None = None,
) -> User:
    """Change a colleague's role, team, name or active flag (an administrator's action)."""
    changed = []
    if role is not None and role != user.role:
        if role not in Role.values:
            raise _field_error("role", _("Unknown role."))
        if user.is_owner:
            raise _field_error("role", _("The owner stays an administrator."))
        user.role = role
        changed.append("role")
    if team is not _NOT_PROVIDED and team != user.team:
        _check_team(team)
        user.team = team
        changed.append("team")
    if full_name is not None and full_name.strip() != user.full_name:
        user.full_name = full_name.strip()
        changed.append("full_name")
    if is_active is not None and is_active != user.is_active:
        if user.pk == actor.pk:
            raise _field_error("is_active", _("You cannot deactivate yourself."))
        if user.is_owner:
            raise _field_error("is_active", _("The owner cannot be deactivated."))
        user.is_active = is_active
        changed.append("is_active")
    if changed:
        user.save(update_fields=changed)
        outbox_record(
            event_type="user.updated",
            aggregate_type="user",
            aggregate_id=user.pk,
            payload={
                "changed": changed,
                "role": user.role,
                "is_active": user.is_active,
                "team_id": user.team_id,
            },
        )
    return user


def password_reset_request(*, users) -> None:
    """Queue a reset e-mail for each of `users` (the form found them by e-mail).

    The link is made when the e-mail is sent: Django's reset tokens derive from the
    user's current state, so nothing secret is stored in the outbox.
    """
    with transaction.atomic():
        for user in users:
            outbox_record(
                event_type="user.password_reset_requested",
                aggregate_type="user",
                aggregate_id=user.pk,
                payload={},
            )


def user_set_language(*, user: User, language: str) -> User:
    if language in dict(settings.LANGUAGES) and user.language != language:
        user.language = language
        user.save(update_fields=["language"])
    return user


def team_save(*, name: str, manager: User | None, team: Team | None = None) -> Team:
    """Create a team, or rename it / change its manager."""
    name = (name or "").strip()
    if not name:
        raise _field_error("name", _("Give the team a name."))
    if Team.objects.filter(name__iexact=name).exclude(pk=getattr(team, "pk", None)).exists():
        raise _field_error("name", _("A team with this name already exists."))
    if manager is not None and not manager.is_active:
        raise _field_error("manager", _("The manager must be an active user."))
    team = team or Team()
    team.name, team.manager = name, manager
    team.save()
    if manager is not None and manager.team_id is None:
        manager.team = team
        manager.save(update_fields=["team"])
    return team


def team_delete(*, team: Team) -> None:
    team.delete()  # members keep their accounts; their team becomes empty (SET_NULL)
