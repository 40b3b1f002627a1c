"""Import pages: upload and recent jobs, column mapping, progress bar and error report."""

from django import forms
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.shortcuts import redirect, render
from django.utils.translation import gettext_lazy

from accounts.permissions import page_permission
from accounts.roles import Perm
from crm_platform.kernel.forms import form_add_errors

from ..api.imports import errors_csv_response
from ..models import ImportJob
from ..selectors import imports as selectors
from ..services import imports as services

ERRORS_SHOWN = 200


class OptionsForm(forms.Form):
    mode = forms.ChoiceField(
        label=gettext_lazy("If a row has errors"),
        choices=[
            (ImportJob.Mode.ALL_OR_NOTHING, gettext_lazy("Import nothing (all or nothing)")),
            (ImportJob.Mode.SKIP_BAD_ROWS, gettext_lazy("Skip bad rows, import the rest")),
        ],
    )
    dedupe = forms.ChoiceField(
        label=gettext_lazy("Duplicates"),
        choices=ImportJob.Dedupe.choices,
        help_text=gettext_lazy("Same e-mail, phone or name as an existing record."),
    )
    dry_run = forms.BooleanField(
        label=gettext_lazy("Dry run: check the file, import nothing"), required=False
    )


class UploadForm(OptionsForm):
    file = forms.FileField(
        label=gettext_lazy("File"),
        help_text=gettext_lazy(
            "CSV (UTF-8, GB18030 or Shift_JIS) or XLSX; the first row names the columns."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".csv,.xlsx"}),
    )
    entity = forms.ChoiceField(label=gettext_lazy("Import"), choices=ImportJob.Entity.choices)
    field_order = ["file", "entity", "mode", "dedupe", "dry_run"]


class MappingForm(OptionsForm):
    """One choice per column of the file: the field it fills, or nothing."""

    def __init__(self, *args, job: ImportJob, headers: list[str], **kwargs):
        super().__init__(*args, **kwargs)
        choices = [("", gettext_lazy("— skip this column —"))] + [
            (field, services.field_label(job.entity, field))
            for field in services.import_fields(job.entity)
        ]
        guessed = services.auto_mapping(job.entity, headers)
        self.headers = headers
        for index, header in enumerate(headers):
            self.fields[f"column_{index}"] = forms.ChoiceField(
                label=header or f"#{index + 1}",
                choices=choices,
                required=False,
                initial=guessed.get(header, ""),
            )
        self.initial.update(mode=job.mode, dedupe=job.dedupe, dry_run=job.dry_run)

    def mapping(self) -> dict[str, str]:
        return {
            header: self.cleaned_data[f"column_{index}"]
            for index, header in enumerate(self.headers)
            if self.cleaned_data.get(f"column_{index}")
        }

    def column_fields(self):
        return [self[f"column_{index}"] for index in range(len(self.headers))]


@login_required
@page_permission(Perm.IMPORT_RECORDS)
def import_list(request):
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            job = services.import_job_create(
                actor=request.user,
                entity=form.cleaned_data["entity"],
                file_name=upload.name,
                data=upload.read(),
                mode=form.cleaned_data["mode"],
                dedupe=form.cleaned_data["dedupe"],
                dry_run=form.cleaned_data["dry_run"],
                start=False,
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect("crm:import", pk=job.pk)
    jobs = selectors.import_jobs_for(request.user).defer("errors", "mapping")[:20]
    return render(request, "crm_core/imports/list.html", {"form": form, "jobs": jobs})


@login_required
@page_permission(Perm.IMPORT_RECORDS)
def import_detail(request, pk):
    job = selectors.import_job_get(user=request.user, pk=pk)
    if job.status == ImportJob.Status.PENDING and not job.mapping:
        return _mapping(request, job)
    return render(request, "crm_core/imports/detail.html", _progress_context(job))


def _mapping(request, job: ImportJob):
    job = ImportJob.objects.get(pk=job.pk)  # with the file
    headers, _rows = services.read_table(job.file_name, bytes(job.file_data))
    form = MappingForm(request.POST or None, job=job, headers=headers)
    if request.method == "POST" and form.is_valid():
        try:
            services.import_job_start(
                job=job,
                actor=request.user,
                mapping=form.mapping(),
                mode=form.cleaned_data["mode"],
                dedupe=form.cleaned_data["dedupe"],
                dry_run=form.cleaned_data["dry_run"],
            )
        except ValidationError as exc:
            form_add_errors(form, exc)
        else:
            return redirect("crm:import", pk=job.pk)
    return render(request, "crm_core/imports/mapping.html", {"job": job, "form": form})


def _progress_context(job: ImportJob) -> dict:
    finished = job.status in (ImportJob.Status.DONE, ImportJob.Status.FAILED)
    labels = {
        field: services.field_label(job.entity, field)
        for field in services.import_fields(job.entity)
    }
    return {
        "job": job,
        "percent": selectors.import_progress(job),
        "finished": finished,
        "errors": [
            {**error, "label": labels.get(error.get("field"), error.get("field"))}
            for error in job.errors[:ERRORS_SHOWN]
        ],
        "more_errors": max(0, len(job.errors) - ERRORS_SHOWN),
    }


@login_required
@page_permission(Perm.IMPORT_RECORDS)
def import_progress(request, pk):
    """The progress fragment the detail page polls every second until the job ends."""
    job = selectors.import_job_get(user=request.user, pk=pk)
    return render(request, "crm_core/imports/_progress.html", _progress_context(job))


@login_required
@page_permission(Perm.IMPORT_RECORDS)
def import_errors_csv(request, pk):
    return errors_csv_response(selectors.import_job_get(user=request.user, pk=pk))
