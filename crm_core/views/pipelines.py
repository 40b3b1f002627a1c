"""The pipelines settings page: pipelines and their ordered stages (MANAGE_PIPELINES)."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm
from crm_platform.kernel.forms import form_add_errors

from ..models import Pipeline, Stage
from ..selectors import pipelines as selectors
from ..services import pipelines as services


class PipelineForm(forms.ModelForm):
    class Meta:
        model = Pipeline
        fields = ["name", "is_default"]
        labels = {"name": gettext_lazy("Name"), "is_default": gettext_lazy("Default pipeline")}


class StageForm(forms.ModelForm):
    probability = forms.IntegerField(
        label=gettext_lazy("Probability (%)"), min_value=0, max_value=100, initial=0
    )
    position = forms.IntegerField(label=gettext_lazy("Order"), min_value=0, max_value=10_000)

    class Meta:
        model = Stage
        fields = ["name", "position", "probability", "kind"]
        labels = {"name": gettext_lazy("Name"), "kind": gettext_lazy("Kind")}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        # The stage rows are compact (labels hidden): each input names itself.
        for field in self.fields.values():
            field.widget.attrs.update({"aria-label": field.label, "title": field.label})
        self.fields["name"].widget.attrs["placeholder"] = gettext_lazy("Stage name")


def _sections(*, bound: dict | None = None) -> list[dict]:
    """Each pipeline with its edit form, its stages' forms and an add-stage form; a form in
    `bound` (by key) replaces the blank one, to show its errors."""
    bound = bound or {}
    sections = []
    for pipeline in selectors.pipeline_list():
        key = f"pipeline-{pipeline.pk}"
        stages = [
            (
                stage,
                bound.get(f"stage-{stage.pk}")
                or StageForm(instance=stage, prefix=f"stage-{stage.pk}"),
            )
            for stage in pipeline.stages.all()
        ]
        next_position = max((stage.position for stage, _form in stages), default=0) + 1
        sections.append(
            {
                "pipeline": pipeline,
                "form": bound.get(key) or PipelineForm(instance=pipeline, prefix=key),
                "stages": stages,
                "new_stage": bound.get(f"new-stage-{pipeline.pk}")
                or StageForm(
                    prefix=f"new-stage-{pipeline.pk}", initial={"position": next_position}
                ),
            }
        )
    return sections


def _page(request, *, bound: dict | None = None, status: int = 200):
    return render(
        request,
        "crm_core/deals/pipelines.html",
        {
            "sections": _sections(bound=bound),
            "new_pipeline": (bound or {}).get("new-pipeline")
            or PipelineForm(prefix="new-pipeline"),
        },
        status=status,
    )


def _save(form, call, **kwargs) -> bool:
    try:
        call(**kwargs)
    except ValidationError as exc:
        form_add_errors(form, exc)
        return False
    return True


@login_required
@page_permission(Perm.MANAGE_PIPELINES)
def pipeline_settings(request):
    """List pipelines and stages; POST adds a pipeline (with the standard stages)."""
    if request.method != "POST":
        return _page(request)
    form = PipelineForm(request.POST, prefix="new-pipeline")
    if form.is_valid() and _save(
        form, services.pipeline_create, actor=request.user, data=form.cleaned_data
    ):
        messages.success(request, _("Pipeline created."))
        return redirect("crm:pipelines")
    return _page(request, bound={"new-pipeline": form}, status=400)


@login_required
@page_permission(Perm.MANAGE_PIPELINES)
@require_POST
def pipeline_edit(request, pk):
    """Rename a pipeline or make it the default; with `delete`, remove it."""
    pipeline = get_object_or_404(Pipeline, pk=pk)
    key = f"pipeline-{pk}"
    form = PipelineForm(request.POST, instance=Pipeline.objects.get(pk=pk), prefix=key)
    if "delete" in request.POST:
        try:
            services.pipeline_delete(pipeline=pipeline, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Pipeline deleted."))
        return redirect("crm:pipelines")
    if form.is_valid() and _save(
        form,
        services.pipeline_update,
        pipeline=pipeline,
        actor=request.user,
        data=form.cleaned_data,
    ):
        messages.success(request, _("Saved."))
        return redirect("crm:pipelines")
    return _page(request, bound={key: form}, status=400)


@login_required
@page_permission(Perm.MANAGE_PIPELINES)
@require_POST
def stage_create(request, pk):
    pipeline = get_object_or_404(Pipeline, pk=pk)
    key = f"new-stage-{pk}"
    form = StageForm(request.POST, prefix=key)
    if form.is_valid() and _save(
        form, services.stage_create, pipeline=pipeline, actor=request.user, data=form.cleaned_data
    ):
        messages.success(request, _("Stage added."))
        return redirect("crm:pipelines")
    return _page(request, bound={key: form}, status=400)


@login_required
@page_permission(Perm.MANAGE_PIPELINES)
@require_POST
def stage_edit(request, pk):
    """Change a stage's name, order, probability or kind; with `delete`, remove it."""
    stage = get_object_or_404(Stage, pk=pk)
    key = f"stage-{pk}"
    if "delete" in request.POST:
        try:
            services.stage_delete(stage=stage, actor=request.user)
        except ValidationError as exc:
            messages.error(request, " ".join(exc.messages))
        else:
            messages.success(request, _("Stage deleted."))
        return redirect("crm:pipelines")
    form = StageForm(request.POST, instance=Stage.objects.get(pk=pk), prefix=key)
    if form.is_valid() and _save(
        form, services.stage_update, stage=stage, actor=request.user, data=form.cleaned_data
    ):
        messages.success(request, _("Saved."))
        return redirect("crm:pipelines")
    return _page(request, bound={key: form}, status=400)
