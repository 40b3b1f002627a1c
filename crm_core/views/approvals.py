"""Approval pages: the list of requests (what waits for me first), and the buttons of
the approval panel every record page shows: decide, withdraw, submit."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import get_object_or_404, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm

from ..models import ApprovalRequest
from ..records import visible
from ..services import approvals as services
from .sales_common import action_page

RECORD_PAGES = {
    "customer": "crm:customer",
    "contact": "crm:contact",
    "lead": "crm:lead",
    "deal": "crm:deal",
    "quote": "crm:quote",
    "contract": "crm:contract",
}


@login_required
@page_permission(Perm.VIEW_RECORDS)
def approval_list(request):
    """?status=pending (default) ...; ?mine=1: only what waits for my decision."""
    status = request.GET.get("status", ApprovalRequest.Status.PENDING)
    requests = (
        services.approvals_visible(request.user)
        .select_related("requested_by", "decided_by")
        .prefetch_related("decisions")
    )
    if status in ApprovalRequest.Status.values:
        requests = requests.filter(status=status)
    mine = request.GET.get("mine") == "1"
    if mine:
        requests = requests.filter(approver_ids__contains=[request.user.pk])
    rows = [
        {
            "request": approval,
            "link": reverse(RECORD_PAGES[approval.record_type], args=[approval.record_id])
            if approval.record_type in RECORD_PAGES
            else "",
            "can_decide": services.approval_can_decide(request.user, approval),
        }
        for approval in requests.order_by("-id")[:200]
    ]
    return render(
        request,
        "crm_core/approvals/list.html",
        {
            "rows": rows,
            "status": status,
            "mine": mine,
            "statuses": ApprovalRequest.Status.choices,
        },
    )


def _back(request) -> str:
    back = request.POST.get("next") or ""
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("crm:approvals")
    return back


@login_required
@page_permission(Perm.VIEW_RECORDS)
@require_POST
def approval_decide(request, pk):
    approval = get_object_or_404(services.approvals_visible(request.user), pk=pk)
    approve = request.POST.get("decision") == "approve"
    return action_page(
        request,
        run=lambda: services.approval_decide(
            request=approval,
            actor=request.user,
            approve=approve,
            comment=request.POST.get("comment", ""),
        ),
        done=_("Approved.") if approve else _("Rejected."),
        back=_back(request),
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
@require_POST
def approval_withdraw(request, pk):
    approval = get_object_or_404(services.approvals_visible(request.user), pk=pk)
    return action_page(
        request,
        run=lambda: services.approval_withdraw(request=approval, actor=request.user),
        done=_("The request was withdrawn."),
        back=_back(request),
    )


@login_required
@page_permission(Perm.CHANGE_RECORDS)
@require_POST
def approval_submit(request):
    from customization.approvals.models import ApprovalProcess
    from customization.approvals.services import approval_submit as submit
    from customization.workflows.entities import ENTITIES

    record_type = request.POST.get("record_type", "")
    if record_type not in RECORD_PAGES or record_type in ("quote", "contract"):
        record_type = ""
    record_id = request.POST.get("record_id", "")
    model = ENTITIES[record_type].model if record_type else None
    record = get_object_or_404(
        visible(model.objects.all(), request.user) if model else ApprovalRequest.objects.none(),
        pk=int(record_id) if record_id.isdigit() else 0,
    )
    process_id = request.POST.get("process_id", "")
    process = (
        ApprovalProcess.objects.filter(pk=int(process_id)).first() if process_id.isdigit() else None
    )
    return action_page(
        request,
        run=lambda: submit(
            record_type=record_type, record=record, actor=request.user, process=process
        ),
        done=_("Submitted for approval."),
        back=_back(request),
    )
