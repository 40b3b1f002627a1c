"""Writes on pipelines and their stages: create, update, delete, the default pipeline.

Pipelines are company settings (perm MANAGE_PIPELINES), not owned records. A company has
exactly one default pipeline once it has any; a pipeline's stages are ordered by
position and each is open, won or lost.
"""

from __future__ import annotations

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Max, Q
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import User
from accounts.roles import Perm, has_perm

from ..models import DealStageChange, Pipeline, Stage
from ..records import record_event

PIPELINE_FIELDS = ("name", "is_default", "position")
STAGE_FIELDS = ("name", "position", "probability", "kind")

# The stages a new company starts with (names are translated when it is created).
DEFAULT_STAGES = (
    (gettext_lazy("Qualification"), 10, Stage.Kind.OPEN),
    (gettext_lazy("Needs analysis"), 30, Stage.Kind.OPEN),
    (gettext_lazy("Proposal"), 60, Stage.Kind.OPEN),
    (gettext_lazy("Negotiation"), 80, Stage.Kind.OPEN),
    (gettext_lazy("Won"), 100, Stage.Kind.WON),
    (gettext_lazy("Lost"), 0, Stage.Kind.LOST),
)


def _ensure_may_manage(actor: User | None) -> None:
    if actor is not None and not has_perm(actor, Perm.MANAGE_PIPELINES):
        raise PermissionDenied


def _unknown(data: dict, allowed: tuple[str, ...]) -> None:
    unknown = set(data) - set(allowed)
    if unknown:
        raise ValidationError({field: [_("Unknown field.")] for field in sorted(unknown)})


def _clean_pipeline(pipeline: Pipeline) -> None:
    pipeline.name = (pipeline.name or "").strip()
    errors: dict[str, list[str]] = {}
    if not pipeline.name:
        errors["name"] = [_("Enter a name.")]
    elif Pipeline.objects.filter(name__iexact=pipeline.name).exclude(pk=pipeline.pk).exists():
        errors["name"] = [_("A pipeline with this name exists already.")]
    if errors:
        raise ValidationError(errors)


def _keep_one_default(pipeline: Pipeline) -> None:
    """After saving `pipeline`: it is the only default if it is one; a company with
    pipelines but no default gets its first one as default."""
    if pipeline.is_default:
        Pipeline.objects.exclude(pk=pipeline.pk).filter(is_default=True).update(is_default=False)
    elif not Pipeline.objects.filter(is_default=True).exists():
        first = Pipeline.objects.order_by("position", "id").first()
        if first is not None:
            Pipeline.objects.filter(pk=first.pk).update(is_default=True)
            if first.pk == pipeline.pk:
                pipeline.is_default = True


def _payload(pipeline: Pipeline) -> dict:
    return {"name": pipeline.name, "is_default": pipeline.is_default}


@transaction.atomic
def pipeline_create(
    *, actor: User | None, data: dict, with_default_stages: bool = True
) -> Pipeline:
    """A new pipeline, by default with the standard stages (edit them afterwards)."""
    _ensure_may_manage(actor)
    _unknown(data, PIPELINE_FIELDS)
    pipeline = Pipeline(**data)
    if "position" not in data:
        pipeline.position = (Pipeline.objects.aggregate(m=Max("position"))["m"] or 0) + 1
    _clean_pipeline(pipeline)
    pipeline.save()
    _keep_one_default(pipeline)
    if with_default_stages:
        Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=str(name), position=index, probability=p, kind=kind)
            for index, (name, p, kind) in enumerate(DEFAULT_STAGES)
        )
    record_event(
        record_type="pipeline", action="created", record=pipeline, payload=_payload(pipeline)
    )
    return pipeline


@transaction.atomic
def pipeline_update(*, pipeline: Pipeline, actor: User | None, data: dict) -> Pipeline:
    _ensure_may_manage(actor)
    _unknown(data, PIPELINE_FIELDS)
    pipeline = Pipeline.objects.select_for_update().get(pk=pipeline.pk)
    if data.get("is_default") is False and pipeline.is_default:
        raise ValidationError({"is_default": [_("Make another pipeline the default instead.")]})
    for field, value in data.items():
        setattr(pipeline, field, value)
    _clean_pipeline(pipeline)
    pipeline.save()
    _keep_one_default(pipeline)
    record_event(
        record_type="pipeline", action="updated", record=pipeline, payload=_payload(pipeline)
    )
    return pipeline


@transaction.atomic
def pipeline_delete(*, pipeline: Pipeline, actor: User | None) -> None:
    _ensure_may_manage(actor)
    if pipeline.deals.exists():
        raise ValidationError(_("This pipeline has deals; move them to another pipeline first."))
    record_event(
        record_type="pipeline", action="deleted", record=pipeline, payload=_payload(pipeline)
    )
    was_default = pipeline.is_default
    pipeline.delete()
    if was_default:
        first = Pipeline.objects.order_by("position", "id").first()
        if first is not None:
            Pipeline.objects.filter(pk=first.pk).update(is_default=True)


def pipeline_ensure_default() -> Pipeline:
    """The default pipeline, created with the standard stages when the company has none.

    A company with pipelines but no default gets its first pipeline marked default.
    """
    with transaction.atomic():
        pipeline = Pipeline.objects.filter(is_default=True).first()
        if pipeline is not None:
            return pipeline
        first = Pipeline.objects.select_for_update().order_by("position", "id").first()
        if first is not None:
            first.is_default = True
            first.save(update_fields=["is_default", "updated_at"])
            return first
        return pipeline_create(actor=None, data={"name": _("Sales"), "is_default": True})


# --- stages ------------------------------------------------------------------------


def _clean_stage(stage: Stage) -> None:
    stage.name = (stage.name or "").strip()
    errors: dict[str, list[str]] = {}
    if not stage.name:
        errors["name"] = [_("Enter a name.")]
    elif (
        Stage.objects.filter(pipeline_id=stage.pipeline_id, name__iexact=stage.name)
        .exclude(pk=stage.pk)
        .exists()
    ):
        errors["name"] = [_("This pipeline has a stage with this name already.")]
    if stage.probability is None or not 0 <= int(stage.probability) <= 100:
        errors["probability"] = [_("Enter a percentage from 0 to 100.")]
    if stage.kind not in Stage.Kind.values:
        errors["kind"] = [_("Choose open, won or lost.")]
    if errors:
        raise ValidationError(errors)


def _stage_payload(stage: Stage) -> dict:
    return {
        "pipeline_id": stage.pipeline_id,
        "name": stage.name,
        "position": stage.position,
        "probability": stage.probability,
        "kind": stage.kind,
    }


@transaction.atomic
def stage_create(*, pipeline: Pipeline, actor: User | None, data: dict) -> Stage:
    _ensure_may_manage(actor)
    _unknown(data, STAGE_FIELDS)
    stage = Stage(pipeline=pipeline, **data)
    if "position" not in data:
        stage.position = (pipeline.stages.aggregate(m=Max("position"))["m"] or 0) + 1
    _clean_stage(stage)
    stage.save()
    record_event(record_type="stage", action="created", record=stage, payload=_stage_payload(stage))
    return stage


@transaction.atomic
def stage_update(*, stage: Stage, actor: User | None, data: dict) -> Stage:
    _ensure_may_manage(actor)
    _unknown(data, STAGE_FIELDS)
    stage = Stage.objects.select_for_update().get(pk=stage.pk)
    if "kind" in data and data["kind"] != stage.kind and stage.deals.exists():
        raise ValidationError(
            {"kind": [_("Deals are in this stage; move them before changing its kind.")]}
        )
    for field, value in data.items():
        setattr(stage, field, value)
    _clean_stage(stage)
    stage.save()
    record_event(record_type="stage", action="updated", record=stage, payload=_stage_payload(stage))
    return stage


@transaction.atomic
def stage_delete(*, stage: Stage, actor: User | None) -> None:
    _ensure_may_manage(actor)
    if stage.deals.exists():
        raise ValidationError(_("Deals are in this stage; move them to another stage first."))
    if DealStageChange.objects.filter(Q(to_stage=stage) | Q(from_stage=stage)).exists():
        raise ValidationError(
            _("Deals have been in this stage (see their history); rename it instead.")
        )
    record_event(record_type="stage", action="deleted", record=stage, payload=_stage_payload(stage))
    stage.delete()
