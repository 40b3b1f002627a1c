"""Approvals: the one mechanism for "this record needs a decision".

A service (or an approval process, customization/approvals/) asks with
approval_request(record_type=, record_id=, rule=, steps=...). A request goes through its
steps in order; each step's approvers are resolved when it starts (the record's team
manager, everyone with a role, or named users) and it is decided by any one of them or
by all of them. A rejection at any step ends the request; approving the last step
approves it. Administrators may decide any step (an override, recorded as theirs); no
one decides their own request. While a request is pending the record is locked
(services call approval_ensure_unlocked before changing it).

On the final decision, the function the record type registered with approval_on_decided()
runs in the same transaction to move the record on (a quote to approved or back to
draft, a contract to active...), and `approval.decided` goes to the outbox, where a
process's outcome actions run after commit. Every request and decision is kept, so a
record's requests are its approval history.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from django.conf import settings
from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Q, QuerySet
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Perm, Role, Visibility, has_perm, visibility_of

from ..models import ApprovalDecision, ApprovalRequest, Notification
from ..records import record_event, team_ids_led_by
from .notifications import notify

# One step decided by the record team's manager (the administrators when there is none).
DEFAULT_STEPS = [{"approvers": "owner_manager", "mode": "any"}]
# record_type -> on_decided(record_id=, approved=, actor=, request=); optional
_on_decided: dict[str, Callable[..., None]] = {}


def approval_on_decided(record_type: str, callback: Callable[..., None]) -> None:
    """Register what happens to a record of `record_type` when its request is decided."""
    _on_decided[record_type] = callback


def _pending(record_type: str, record_id: int):
    return ApprovalRequest.objects.filter(
        record_type=record_type, record_id=record_id, status=ApprovalRequest.Status.PENDING
    )


def approval_pending(*, record_type: str, record_id: int) -> ApprovalRequest | None:
    return _pending(record_type, record_id).first()


def approval_is_pending(*, record_type: str, record_id: int) -> bool:
    return _pending(record_type, record_id).exists()


def approval_ensure_unlocked(*, record_type: str, record_id: int) -> None:
    if approval_is_pending(record_type=record_type, record_id=record_id):  # no row loaded
        raise ValidationError(
            {"status": [_("This record is locked while it waits for an approval.")]}
        )


def approval_request(
    *,
    record_type: str,
    record_id: int,
    rule: str,
    requested_by: User | None,
    reason: str = "",
    team_id: int | None = None,
    steps: list[dict] | None = None,
    process=None,
    remind_after_hours: int = 24,
    now: datetime | None = None,
) -> ApprovalRequest:
    """Ask for a decision on a record (one pending request per record)."""
    approval_ensure_unlocked(record_type=record_type, record_id=record_id)
    if team_id is None and requested_by is not None:
        team_id = requested_by.team_id
    request = ApprovalRequest(
        record_type=record_type,
        record_id=record_id,
        rule=rule,
        process=process,
        reason=reason[:500],
        requested_by=requested_by,
        team_id=team_id,
        steps=steps or DEFAULT_STEPS,
        remind_after_hours=remind_after_hours,
    )
    _enter_step(request, 0, now or timezone.now())
    request.save()
    _notify_approvers(request, "requested")
    record_event(
        record_type="approval",
        action="requested",
        record=request,
        payload={
            "record_type": record_type,
            "record_id": record_id,
            "rule": rule,
            "process_id": request.process_id,
            "requested_by_id": request.requested_by_id,
            "approver_ids": request.approver_ids,
        },
    )
    return request


def _enter_step(request: ApprovalRequest, index: int, now: datetime) -> None:
    request.step_index = index
    request.approver_ids = step_approvers(request.steps[index], request)
    request.step_started_at, request.reminded_at = now, None


def step_approvers(step: dict, request: ApprovalRequest) -> list[int]:
    """Who decides `step` of `request`: active users, never the requester; the
    administrators when the step names nobody who can."""
    active = User.objects.filter(is_active=True).exclude(pk=request.requested_by_id)
    spec = step.get("approvers", "owner_manager")
    if spec == "owner_manager":
        manager_id = request.team.manager_id if request.team_id else None
        found = active.filter(pk=manager_id) if manager_id else active.none()
    elif spec.startswith("role:"):
        found = active.filter(role=spec.removeprefix("role:"))
    else:  # named users
        found = active.filter(pk__in=step.get("users") or [])
    ids = list(found.order_by("id").values_list("pk", flat=True))
    return ids or list(active.filter(role=Role.ADMIN).order_by("id").values_list("pk", flat=True))


KIND_APPROVAL = Notification.Kind.APPROVAL
TITLES = {
    "requested": gettext_lazy("Approval needed: %(reason)s"),
    "reminder": gettext_lazy("Still waiting for your approval: %(reason)s"),
    "approved": gettext_lazy("Approved: %(reason)s"),
    "rejected": gettext_lazy("Rejected: %(reason)s"),
}


def _title(user: User, key: str, request: ApprovalRequest) -> str:
    with translation.override(user.language or settings.LANGUAGE_CODE):
        return str(TITLES[key]) % {"reason": request.reason or request.rule}


def _notify_approvers(request: ApprovalRequest, key: str, *, suffix: str = "") -> None:
    """Tell the current step's approvers who have not decided yet."""
    decided = set(
        request.decisions.filter(step_index=request.step_index).values_list("user_id", flat=True)
    )
    for user in User.objects.filter(pk__in=request.approver_ids, is_active=True):
        if user.pk in decided:
            continue
        notify(
            user=user,
            kind=KIND_APPROVAL,
            title=_title(user, key, request),
            record_type=request.record_type,
            record_id=request.record_id,
            dedupe_key=f"approval:{request.pk}:{request.step_index}:{user.pk}{suffix}",
        )


def approvals_visible(user: User) -> QuerySet[ApprovalRequest]:
    """Requests `user` may see: all (admins and everyone who sees all records), their
    teams' (managers), their own and those they are asked to decide."""
    queryset = ApprovalRequest.objects.all()
    scope = visibility_of(user)
    if scope == Visibility.ALL:
        return queryset
    mine = Q(requested_by=user) | Q(approver_ids__contains=[user.pk]) | Q(decisions__user=user)
    if scope == Visibility.TEAM:
        mine |= Q(team_id__in=team_ids_led_by(user))
    return queryset.filter(mine).distinct()


def approval_can_decide(user: User, request: ApprovalRequest) -> bool:
    if request.status != ApprovalRequest.Status.PENDING or not user.is_active:
        return False
    if request.requested_by_id == user.pk:
        return False  # no one approves their own request
    if has_perm(user, Perm.DECIDE_ANY_APPROVAL):
        return True
    if user.pk not in request.approver_ids:
        return False
    return not any(  # .all(): lists prefetch the decisions
        d.step_index == request.step_index and d.user_id == user.pk for d in request.decisions.all()
    )


@transaction.atomic
def approval_decide(
    *,
    request: ApprovalRequest,
    actor: User,
    approve: bool,
    comment: str = "",
    now: datetime | None = None,
) -> ApprovalRequest:
    """Record `actor`'s decision on the current step; move to the next step, or end the
    request (approved after the last step, rejected at once)."""
    now = now or timezone.now()
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ApprovalRequest.Status.PENDING:
        raise ValidationError({"status": [_("This request has already been decided.")]})
    if not approval_can_decide(actor, request):
        raise PermissionDenied
    comment = (comment or "").strip()
    if not approve and not comment:
        raise ValidationError({"comment": [_("Say why it is rejected.")]})
    ApprovalDecision.objects.create(
        request=request, step_index=request.step_index, user=actor, approved=approve,
        comment=comment,
    )  # fmt: skip
    if approve and not _step_complete(request, actor):
        request.save(update_fields=["updated_at"])  # others of this step still to decide
        return request
    if approve and request.step_index + 1 < len(request.steps):
        _enter_step(request, request.step_index + 1, now)
        request.save(
            update_fields=[
                "step_index", "approver_ids", "step_started_at", "reminded_at", "updated_at",
            ]
        )  # fmt: skip
        _notify_approvers(request, "requested")
        record_event(
            record_type="approval",
            action="advanced",
            record=request,
            payload={"record_type": request.record_type, "record_id": request.record_id,
                     "step_index": request.step_index, "approver_ids": request.approver_ids},
        )  # fmt: skip
        return request
    request.status = ApprovalRequest.Status.APPROVED if approve else ApprovalRequest.Status.REJECTED
    request.decided_by, request.decided_at, request.comment = actor, now, comment
    request.save(update_fields=["status", "decided_by", "decided_at", "comment", "updated_at"])
    if request.record_type in _on_decided:
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
            "process_id": request.process_id,
            "status": request.status,
            "decided_by_id": actor.pk,
        },
    )
    return request


def _step_complete(request: ApprovalRequest, actor: User) -> bool:
    """Whether the step is approved after `actor`'s approval: any one approver, or all of
    them ("all"); an administrator outside the step's approvers decides it alone."""
    if request.step.get("mode") != "all" or actor.pk not in request.approver_ids:
        return True
    approved = set(
        request.decisions.filter(step_index=request.step_index, approved=True).values_list(
            "user_id", flat=True
        )
    )
    return set(request.approver_ids) <= approved


@transaction.atomic
def approval_withdraw(*, request: ApprovalRequest, actor: User) -> ApprovalRequest:
    """The requester (or an administrator) takes a pending request back; the record is
    unlocked and stays as it is."""
    request = ApprovalRequest.objects.select_for_update().get(pk=request.pk)
    if request.status != ApprovalRequest.Status.PENDING:
        raise ValidationError({"status": [_("This request has already been decided.")]})
    if request.requested_by_id != actor.pk and not has_perm(actor, Perm.DECIDE_ANY_APPROVAL):
        raise PermissionDenied
    if request.record_type in _on_decided:
        raise ValidationError(
            {"status": [_("Withdraw this request from its record (revise or edit it).")]}
        )
    request.status, request.decided_by, request.decided_at = (
        ApprovalRequest.Status.CANCELLED, actor, timezone.now(),
    )  # fmt: skip
    request.save(update_fields=["status", "decided_by", "decided_at", "updated_at"])
    record_event(
        record_type="approval",
        action="withdrawn",
        record=request,
        payload={"record_type": request.record_type, "record_id": request.record_id},
    )
    return request


def approval_cancel(*, record_type: str, record_id: int) -> None:
    """Withdraw a pending request (the record was revised or withdrawn)."""
    ApprovalRequest.objects.filter(
        record_type=record_type, record_id=record_id, status=ApprovalRequest.Status.PENDING
    ).update(status=ApprovalRequest.Status.CANCELLED, updated_at=timezone.now())


def approvals_remind(*, now: datetime | None = None) -> int:
    """Beat, per company: remind the approvers of every step that has waited longer than
    its request's reminder interval, then again after each further interval. Idempotent
    per interval (the dedupe key names it)."""
    now = now or timezone.now()
    reminded = 0
    pending = ApprovalRequest.objects.filter(
        status=ApprovalRequest.Status.PENDING, remind_after_hours__gt=0
    )
    for request in pending:
        every = timedelta(hours=request.remind_after_hours)
        started = request.step_started_at or request.created_at
        if (request.reminded_at or started) + every > now:
            continue
        interval = int((now - started) // every)
        _notify_approvers(request, "reminder", suffix=f":remind:{interval}")
        request.reminded_at = now
        request.save(update_fields=["reminded_at"])
        reminded += 1
    return reminded


def approval_history(*, record_type: str, record_id: int) -> list[ApprovalRequest]:
    return list(
        ApprovalRequest.objects.filter(record_type=record_type, record_id=record_id)
        .select_related("requested_by", "decided_by", "process")
        .prefetch_related("decisions__user")
        .order_by("id")
    )
