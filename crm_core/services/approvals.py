"""Approvals: one small, generic mechanism for "this record needs a decision".

A service asks for a decision with approval_request(record_type=, record_id=, rule=...);
while the request is pending the record is locked (services call approval_ensure_unlocked
before changing it). approval_decide() records the decision and calls the function the
record type registered with approval_on_decided(), inside the same transaction, to move
the record on (a quote to approved or back to draft, a contract to active...).
Every request is kept, so a record's requests are its approval history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Perm, Role, Visibility, has_perm, visibility_of

from ..models import ApprovalRequest, Notification
from ..records import record_event, team_ids_led_by
from .notifications import notify

# Roles from the least to the most senior: a request names the least that may decide.
ROLE_RANK = {Role.MANAGER: 1, Role.ADMIN: 2}
# record_type -> on_decided(record_id=, approved=, actor=, request=)
_on_decided: dict[str, Callable[..., None]] = {}


def approval_on_decided(record_type: str, callback: Callable[..., None]) -> None:
    """Register what happens to a record of `record_type` when its request is decided."""
    _on_decided[record_type] = callback


def approval_pending(*, record_type: str, record_id: int) -> ApprovalRequest | None:
    return ApprovalRequest.objects.filter(
        record_type=record_type, record_id=record_id, status=ApprovalRequest.Status.PENDING
    ).first()


def approval_ensure_unlocked(*, record_type: str, record_id: int) -> None:
    if approval_pending(record_type=record_type, record_id=record_id):
        raise ValidationError(
            {"status": [_("This record is locked while it waits for an approval.")]}
        )


def approval_request(
    *,
    record_type: str,
    record_id: int,
    rule: str,
    requested_by: User,
    reason: str = "",
    approver_role: str = Role.MANAGER,
    approver: User | None = None,
    team_id: int | None = None,
) -> ApprovalRequest:
    """Ask for a decision on a record (one pending request per record)."""
    if record_type not in _on_decided:
        raise ValueError(f"no approval handler for {record_type!r}")
    approval_ensure_unlocked(record_type=record_type, record_id=record_id)
    request = ApprovalRequest.objects.create(
        record_type=record_type,
        record_id=record_id,
        rule=rule,
        reason=reason[:500],
        requested_by=requested_by,
        team_id=team_id if team_id is not None else requested_by.team_id,
        approver_role=approver_role,
        approver=approver,
    )
    _notify_deciders(request)
    record_event(
        record_type="approval",
        action="requested",
        record=request,
        payload={
            "record_type": record_type,
            "record_id": record_id,
            "rule": rule,
            "requested_by_id": requested_by.pk,
            "approver_role": approver_role,
        },
    )
    return request


KIND_APPROVAL = Notification.Kind.APPROVAL
TITLES = {
    "requested": gettext_lazy("Approval needed: %(reason)s"),
    "approved": gettext_lazy("Approved: %(reason)s"),
    "rejected": gettext_lazy("Rejected: %(reason)s"),
}


def _title(user: User, key: str, request: ApprovalRequest) -> str:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return str(TITLES[key]) % {"reason": request.reason or request.rule}


def _deciders(request: ApprovalRequest) -> list[User]:
    """Who is told of a new request: the named approver, else the team's manager, else
    the administrators."""
    if request.approver_id:
        return [request.approver]
    if request.team_id and request.team.manager_id and request.team.manager.is_active:
        if request.team.manager_id != request.requested_by_id:
            return [request.team.manager]
    return list(
        User.objects.filter(role=Role.ADMIN, is_active=True).exclude(pk=request.requested_by_id)
    )


def _notify_deciders(request: ApprovalRequest) -> None:
    for user in _deciders(request):
        notify(
            user=user,
            kind=KIND_APPROVAL,
            title=_title(user, "requested", request),
            record_type=request.record_type,
            record_id=request.record_id,
            dedupe_key=f"approval:{request.pk}:{user.pk}",
        )


def approvals_visible(user: User) -> QuerySet[ApprovalRequest]:
    """Requests `user` may see: all (admins), their teams' (managers), their own."""
    queryset = ApprovalRequest.objects.all()
    scope = visibility_of(user)
    if scope == Visibility.ALL:
        return queryset
    mine = Q(requested_by=user) | Q(approver=user)
    if scope == Visibility.TEAM:
        mine |= Q(team_id__in=team_ids_led_by(user))
    return queryset.filter(mine)


def approval_can_decide(user: User, request: ApprovalRequest) -> bool:
    if request.status != ApprovalRequest.Status.PENDING:
        return False
    if not has_perm(user, Perm.DECIDE_APPROVALS) or request.requested_by_id == user.pk:
        return False  # no one approves their own request
    if request.approver_id:
        return request.approver_id == user.pk or user.role == Role.ADMIN
    if ROLE_RANK.get(user.role, 0) < ROLE_RANK.get(request.approver_role, 0):
        return False
    return approvals_visible(user).filter(pk=request.pk).exists()


@transaction.atomic
def approval_decide(
    *,
    request: ApprovalRequest,
    actor: User,
    approve: bool,
    comment: str = "",
    now: datetime | None = None,
) -> ApprovalRequest:
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ApprovalRequest.Status.PENDING:
        raise ValidationError({"status": [_("This request has already been decided.")]})
    if not approval_can_decide(actor, request):
        raise PermissionDenied
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": [_("Say why it is rejected.")]})
    request.status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.REJECTED
    request.decided_by = actor
    request.decided_at = now or timezone.now()
    request.comment = comment
    request.save(update_fields=["status", "decided_by", "decided_at", "comment", "updated_at"])
    _on_decided[request.record_type](
        record_id=request.record_id, approved=approve, actor=actor, request=request
    )
    if request.requested_by_id and request.requested_by.is_active:
        notify(
            user=request.requested_by,
            kind=KIND_APPROVAL,
            title=_title(request.requested_by, "approved" if approve else "rejected", request),
            body=comment,
            record_type=request.record_type,
            record_id=request.record_id,
            dedupe_key=f"approval:{request.pk}:decided",
        )
    record_event(
        record_type="approval",
        action="decided",
        record=request,
        payload={
            "record_type": request.record_type,
            "record_id": request.record_id,
            "rule": request.rule,
            "status": request.status,
            "decided_by_id": actor.pk,
        },
    )
    return request


def approval_cancel(*, record_type: str, record_id: int) -> None:
    """Withdraw a pending request (the record was revised or withdrawn)."""
    ApprovalRequest.objects.filter(
        record_type=record_type, record_id=record_id, status=ApprovalRequest.Status.PENDING
    ).update(status=ApprovalRequest.Status.CANCELLED, updated_at=timezone.now())


def approval_history(*, record_type: str, record_id: int) -> list[ApprovalRequest]:
    return list(
        ApprovalRequest.objects.filter(record_type=record_type, record_id=record_id)
        .select_related("requested_by", "decided_by")
        .order_by("id")
    )
