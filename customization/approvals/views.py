"""Settings › Approval processes: the list (with the ready templates) and the builder."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm

from ..workflows.builder import ACTION_LABELS
from . import services
from .builder import ProcessBuilder
from .models import ApprovalProcess


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def process_list(request):
    return render(
        request,
        "customization/approvals/processes.html",
        {"processes": ApprovalProcess.objects.all(), "templates": services.TEMPLATES},
    )


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
@require_POST
def process_install(request):
    try:
        process = services.process_install_template(
            actor=request.user, template=request.POST.get("template", "")
        )
    except ValidationError as exc:
        messages.error(request, " ".join(exc.messages))
        return redirect("customization:approval_processes")
    messages.success(request, _("Approval process added from the template."))
    return redirect("customization:approval_process_edit", process.pk)


def _builder_page(request, *, process=None):
    """GET shows the builder; POST with `_change` re-renders it with a row added or
    removed (or another record type); a plain POST saves."""
    if request.method == "POST":
        builder = ProcessBuilder.from_post(request.POST, entity=process.entity if process else None)
        if not request.POST.get("_change"):
            data = builder.process_data()
            try:
                if process is None:
                    process = services.process_create(actor=request.user, data=data)
                    messages.success(request, _("Approval process created."))
                else:
                    services.process_update(process=process, actor=request.user, data=data)
                    messages.success(request, _("Approval process saved."))
                return redirect("customization:approval_process_edit", process.pk)
            except ValidationError as exc:
                builder.set_errors(exc.message_dict)
    elif process is not None:
        builder = ProcessBuilder.from_process(process)
    else:
        wanted = request.GET.get("entity", "deal")
        builder = ProcessBuilder(wanted if wanted in ApprovalProcess.Entity.values else "deal")
    context = {**builder.context(), "process": process, "action_labels": ACTION_LABELS}
    template = "customization/approvals/process_form.html"
    if request.htmx and request.POST.get("_change"):
        return render(request, template + "#builder", context)
    return render(request, template, context)


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def process_create(request):
    return _builder_page(request)


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
def process_edit(request, pk):
    return _builder_page(request, process=get_object_or_404(ApprovalProcess, pk=pk))


@login_required
@page_permission(Perm.MANAGE_WORKFLOWS)
@require_POST
def process_delete(request, pk):
    process = get_object_or_404(ApprovalProcess, pk=pk)
    services.process_delete(process=process, actor=request.user)
    messages.success(request, _("Approval process deleted."))
    return redirect("customization:approval_processes")
