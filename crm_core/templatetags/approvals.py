"""`{% approval_panel "deal" deal %}`: a record's approvals on its page (the pending
request's steps and decisions, the decide, withdraw and submit forms, the history)."""

from django import template

register = template.Library()

# Records submitted from their own page; quotes and contracts have their own buttons.
SUBMITTABLE = ("customer", "contact", "lead", "deal")


@register.inclusion_tag("crm_core/approvals/_panel.html", takes_context=True)
def approval_panel(context, record_type: str, record):
    from accounts.roles import Perm, has_perm

    from ..records import can_see
    from ..services import approvals as services

    user = context["request"].user
    history = services.approval_history(record_type=record_type, record_id=record.pk)
    pending = next((r for r in history if r.status == r.Status.PENDING), None)
    processes = []
    if (
        pending is None
        and record_type in SUBMITTABLE
        and has_perm(user, Perm.CHANGE_RECORDS)
        and can_see(user, record, include_pool=False)
    ):
        from customization.approvals.models import ApprovalProcess
        from customization.approvals.services import process_matches

        processes = [
            process
            for process in ApprovalProcess.objects.filter(entity=record_type, is_enabled=True)
            if process_matches(process, record)
        ]
    return {
        "request": context["request"],
        "record_type": record_type,
        "record": record,
        "history": history,
        "pending": pending,
        "can_decide": pending is not None and services.approval_can_decide(user, pending),
        "can_withdraw": pending is not None
        and record_type in SUBMITTABLE
        and (pending.requested_by_id == user.pk or has_perm(user, Perm.DECIDE_ANY_APPROVAL)),
        "approvers": _names(pending.approver_ids) if pending else [],
        "processes": processes,
    }


def _names(user_ids) -> list[str]:
    from accounts.models import User

    return [u.get_full_name() for u in User.objects.filter(pk__in=user_ids).order_by("id")]
