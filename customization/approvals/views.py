"""Settings › Approval processes: the list (with the ready templates) and the builder."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm

from ..workflows.views import builder_page
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
    if request.method == "POST":
        builder = ProcessBuilder.from_post(request.POST, entity=process.entity if process else None)
    elif process is not None:
        builder = ProcessBuilder.from_process(process)
    else:
        wanted = request.GET.get("entity", "deal")
        builder = ProcessBuilder(wanted if wanted in ApprovalProcess.Entity.values else "deal")

    def save(builder):
        data = builder.process_data()
        if process is None:
            saved = services.process_create(actor=request.user, data=data)
            messages.success(request, _("Approval process created."))
        else:
            saved = services.process_update(process=process, actor=request.user, data=data)
            messages.success(request, _("Approval process saved."))
        return reverse("customization:approval_process_edit", args=[saved.pk])

    return builder_page(
        request,
        builder=builder,
        save=save,
        template="customization/approvals/process_form.html",
        context={"process": process},
    )


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
