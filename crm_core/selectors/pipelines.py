"""Reads of pipelines and stages (company settings every user with VIEW_RECORDS reads)."""

from __future__ import annotations

from django.db.models import Prefetch, QuerySet
from django.shortcuts import get_object_or_404

from ..models import Pipeline, Stage

PIPELINE_FIELDS = ("id", "name", "is_default", "position")
STAGE_FIELDS = ("id", "pipeline_id", "name", "position", "probability", "kind")


def pipeline_list() -> QuerySet[Pipeline]:
    """Pipelines in order, each with its ordered stages prefetched."""
    return Pipeline.objects.order_by("position", "id").prefetch_related(
        Prefetch("stages", queryset=Stage.objects.order_by("position", "id"))
    )


def pipeline_get(*, pk: int) -> Pipeline:
    return get_object_or_404(pipeline_list(), pk=pk)


def stage_list(*, pipeline_id: int | None = None) -> QuerySet[Stage]:
    stages = Stage.objects.order_by("pipeline__position", "pipeline_id", "position", "id")
    if pipeline_id is not None:
        stages = stages.filter(pipeline_id=pipeline_id)
    return stages


def stage_get(*, pk: int) -> Stage:
    return get_object_or_404(Stage.objects.select_related("pipeline"), pk=pk)
