"""The duplicates page: groups of look-alike records, and a pair side by side to merge."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.db.models import Count
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _

from accounts.permissions import page_permission
from accounts.roles import Perm

from ..records import visible
from ..selectors import duplicates as selectors
from ..services import duplicates as services


def _int(value):
    try:
        return int(value)
    except (TypeError, ValueError):
        return None


@login_required
@page_permission(Perm.MERGE_RECORDS)
def duplicates_page(request):
    entity = request.GET.get("type") if request.GET.get("type") in selectors.MODELS else "customer"
    keep_id, merge_id = _int(request.GET.get("keep")), _int(request.GET.get("merge"))
    if keep_id and merge_id:
        return _pair(request, entity, keep_id, merge_id)
    model = selectors.MODELS[entity]
    records = visible(model.objects.all(), request.user, include_pool=entity != "contact")
    keys = (
        records.exclude(name_key="")
        .values("name_key")
        .annotate(count=Count("id"))
        .filter(count__gt=1)
        .order_by("-count", "name_key")[:50]
    )
    by_key: dict[str, list] = {row["name_key"]: [] for row in keys}
    for record in records.filter(name_key__in=list(by_key)).select_related("owner").order_by("id"):
        by_key[record.name_key].append(record)
    return render(
        request,
        "crm_core/duplicates/list.html",
        {"entity": entity, "types": selectors.MODELS, "groups": list(by_key.values())},
    )


def _pair(request, entity, keep_id, merge_id):
    keep, merge = selectors.merge_pair(
        user=request.user, entity=entity, keep_id=keep_id, merge_id=merge_id
    )
    rows = selectors.merge_conflicts(entity=entity, keep=keep, merge=merge)
    errors = []
    if request.method == "POST":
        choices = {
            row["field"]: request.POST.get(f"field_{row['field']}", "keep")
            for row in rows
            if row["conflict"]
        }
        try:
            kept = services.record_merge(
                entity=entity,
                keep_id=keep.pk,
                merge_id=merge.pk,
                fields=choices,
                actor=request.user,
            )
        except ValidationError as exc:
            errors = exc.messages
        else:
            messages.success(request, _("Merged into %(name)s.") % {"name": kept.name})
            return redirect(f"{request.path}?type={entity}")
    return render(
        request,
        "crm_core/duplicates/pair.html",
        {
            "entity": entity,
            "keep": keep,
            "merge": merge,
            "rows": rows,
            "union_fields": selectors.UNION_FIELDS[entity],
            "errors": errors,
        },
    )
