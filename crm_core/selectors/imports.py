"""Reads of import jobs: the jobs a user may see, one job, its errors as CSV rows."""

from __future__ import annotations

from django.db.models import QuerySet
from django.shortcuts import get_object_or_404

from accounts.roles import Perm, Visibility, has_perm, visibility_of

from ..models import ImportJob


def import_jobs_for(user) -> QuerySet[ImportJob]:
    """Jobs `user` may see (without the file's bytes): administrators every job, other
    importers their own."""
    queryset = ImportJob.objects.defer("file_data").select_related("created_by")
    if not has_perm(user, Perm.IMPORT_RECORDS):
        return queryset.none()
    if visibility_of(user) == Visibility.ALL:
        return queryset
    return queryset.filter(created_by=user)


def import_job_get(*, user, pk: int) -> ImportJob:
    return get_object_or_404(import_jobs_for(user), pk=pk)


def import_progress(job: ImportJob) -> int:
    """Percent of rows processed (100 once finished)."""
    if job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED):
        return 100
    if not job.total_rows:
        return 0
    return min(100, job.processed_rows * 100 // job.total_rows)
