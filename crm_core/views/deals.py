"""Deal pages: the kanban board of a pipeline (drag a card to move its stage), the deal
page with its stage history and activities, create and edit."""

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied, ValidationError
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm, has_perm
from crm_platform.kernel.forms import form_add_errors
from customization.forms import custom_fields_add, custom_service_data
from customization.pages import list_page_query

from ..models import Contact, Customer, Deal, Pipeline, Stage
from ..records import can_see, visible
from ..selectors import activities as activity_selectors
from ..selectors import deals as selectors
from ..services import deals as services
from ..services.pipelines import pipeline_ensure_default
from .activities import QuickActivityForm
from .common import user_choices

CHOICES_SHOWN = 200  # long lists (customers, contacts) show the most recent ones


def duration_text(seconds: int | None) -> str:
    """ "3 days 4 hours", "25 minutes": how long a deal sat in a stage."""
    if seconds is None:
        return "—"
    days, rest = divmod(int(seconds), 86400)
    hours, rest = divmod(rest, 3600)
    minutes = rest // 60
    parts = []
    if days:
        parts.append(ngettext("%(n)d day", "%(n)d days", days) % {"n": days})
    if hours and days < 30:
        parts.append(ngettext("%(n)d hour", "%(n)d hours", hours) % {"n": hours})
    if not days and not hours:
        parts.append(ngettext("%(n)d minute", "%(n)d minutes", minutes) % {"n": minutes})
    return " ".join(parts)


class BoardFilterForm(forms.Form):
    pipeline = forms.ModelChoiceField(
        label=gettext_lazy("Pipeline"), queryset=Pipeline.objects.all(), required=False
    )
    q = forms.CharField(
        label=gettext_lazy("Search"),
        required=False,
        widget=forms.SearchInput(attrs={"placeholder": gettext_lazy("Deal or customer name")}),
    )
    owner = forms.ChoiceField(
        label=gettext_lazy("Owner"),
        required=False,
        choices=[("", gettext_lazy("All I can see")), ("me", gettext_lazy("Mine"))],
    )


def _board_context(request, *, pipeline: Pipeline | None = None, error: str = "") -> dict:
    filters = BoardFilterForm(request.GET or None)
    values = filters.cleaned_data if filters.is_valid() else {}
    pipeline = pipeline or values.get("pipeline") or pipeline_ensure_default()
    if filters.is_bound and filters.is_valid():
        filters = BoardFilterForm({**request.GET.dict(), "pipeline": pipeline.pk})
        filters.is_valid()
    else:
        filters = BoardFilterForm(initial={"pipeline": pipeline.pk})
    values = {k: v for k, v in values.items() if k != "pipeline"}
    field_filter = {}

    def narrow(deals):
        deals, field_filter["bar"] = list_page_query(request, deals)
        return deals

    columns = selectors.deal_board(
        user=request.user, pipeline=pipeline, filters=values, narrow=narrow
    )
    return {
        "filters": filters,
        "field_filter": field_filter["bar"],
        "pipeline": pipeline,
        "columns": columns,
        "stages": [column.stage for column in columns],
        "error": error,
        "can_move": has_perm(request.user, Perm.CHANGE_RECORDS),
        "can_create": has_perm(request.user, Perm.CHANGE_RECORDS),
        "board_url": reverse("crm:deals") + (f"?{request.GET.urlencode()}" if request.GET else ""),
    }


@login_required
@page_permission(Perm.VIEW_RECORDS)
def deal_board(request):
    """The kanban board: a column per stage of the chosen (default) pipeline."""
    return render(request, "crm_core/deals/board.html", _board_context(request))


def _next_url(request, default: str) -> str:
    target = request.POST.get("next") or ""
    if url_has_allowed_host_and_scheme(target, {request.get_host()}, request.is_secure()):
        return target
    return default


@login_required
@page_permission(Perm.CHANGE_RECORDS)
@require_POST
def deal_move(request, pk):
    """Move a deal to the posted stage. htmx (a dropped card): answers the re-rendered
    board; a plain form (no JS): redirects back with a message."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    stage_id = request.POST.get("stage", "")
    stage = Stage.objects.filter(pk=stage_id).first() if stage_id.isdigit() else None
    error = ""
    try:
        if stage is None:
            raise ValidationError({"stage": [_("Choose a stage.")]})
        services.deal_move_stage(
            deal=deal,
            stage=stage,
            actor=request.user,
            lost_reason=request.POST.get("lost_reason", ""),
        )
    except ValidationError as exc:
        error = " ".join(exc.messages)
    except PermissionDenied:
        error = _("You may not change this deal.")
    if request.htmx:
        context = _board_context(request, pipeline=deal.pipeline, error=error)
        return render(request, "crm_core/deals/_board.html", context)
    if error:
        messages.error(request, error)
    else:
        messages.success(
            request, _("%(deal)s moved to %(stage)s.") % {"deal": deal.name, "stage": stage.name}
        )
    return redirect(_next_url(request, reverse("crm:deal", args=[pk])))


class DealForm(forms.ModelForm):
    """Parses the page's input; deal services validate and save it."""

    class Meta:
        model = Deal
        fields = [
            "name",
            "customer",
            "contact",
            "stage",
            "amount",
            "currency",
            "expected_close_date",
            "lost_reason",
            "owner",
            "finder",
            "delivery_owner",
            "collections_owner",
        ]
        widgets = {"expected_close_date": forms.DateInput(attrs={"type": "date"})}

    def __init__(self, *args, user, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        user_choices(self, "owner", "finder", "delivery_owner", "collections_owner")
        self.fields["owner"].required = False
        stage_field = self.fields["stage"]
        stage_field.queryset = Stage.objects.select_related("pipeline").order_by(
            "pipeline__position", "pipeline_id", "position", "id"
        )
        stage_field.label_from_instance = lambda s: f"{s.pipeline.name} · {s.name}"
        stage_field.required = False
        stage_field.help_text = gettext_lazy("Empty: the first stage of the default pipeline.")
        self._limit("customer", visible(Customer.objects.all(), user, include_pool=True))
        self._limit("contact", visible(Contact.objects.all(), user, include_pool=True))
        if not has_perm(user, Perm.REASSIGN_RECORDS):
            self.fields["owner"].disabled = True
        custom_fields_add(self, entity="deal", user=user, record=self.instance)

    def _limit(self, name: str, queryset) -> None:
        """Validate against every visible record, but list only the recent ones (and the
        current choice): a select with 200,000 customers is of no use."""
        field = self.fields[name]
        field.queryset = queryset
        current = self.initial.get(name) or self.data.get(name)
        shown = list(queryset.order_by("-id").values_list("pk", "name")[:CHOICES_SHOWN])
        if current and str(current).isdigit() and int(current) not in {pk for pk, _n in shown}:
            shown += list(queryset.filter(pk=int(current)).values_list("pk", "name"))
        field.widget.choices = [("", "—"), *shown]

    def service_data(self) -> dict:
        data = {
            name: value
            for name, value in self.cleaned_data.items()
            if not self.fields[name].disabled
        }
        if data.get("owner") is None:
            data.pop("owner", None)
        if data.get("stage") is None:
            data.pop("stage", None)
        else:
            data["pipeline"] = data["stage"].pipeline
        return custom_service_data(self, data)


def _save(request, form: DealForm, deal: Deal | None):
    try:
        if deal is None:
            return services.deal_create(actor=request.user, data=form.service_data())
        return services.deal_update(deal=deal, actor=request.user, data=form.service_data())
    except ValidationError as exc:
        form_add_errors(form, exc)
    return None


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def deal_create(request):
    initial = {"currency": "CNY"}
    if (customer_id := request.GET.get("customer", "")).isdigit():
        initial["customer"] = int(customer_id)
    form = DealForm(request.POST or None, user=request.user, initial=initial)
    if request.method == "POST" and form.is_valid():
        if deal := _save(request, form, None):
            messages.success(request, _("Deal created."))
            return redirect("crm:deal", pk=deal.pk)
    return render(request, "crm_core/deals/form.html", {"form": form}, status=_status(form))


def _status(form) -> int:
    return 400 if form.is_bound and form.errors else 200


@login_required
@page_permission(Perm.CHANGE_RECORDS)
def deal_edit(request, pk):
    deal = selectors.deal_get(user=request.user, pk=pk)
    form = DealForm(request.POST or None, instance=deal, user=request.user)
    if request.method == "POST" and form.is_valid():
        if _save(request, form, Deal.objects.get(pk=pk)):
            messages.success(request, _("Saved."))
            return redirect("crm:deal", pk=pk)
    return render(
        request, "crm_core/deals/form.html", {"form": form, "deal": deal}, status=_status(form)
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
def deal_detail(request, pk):
    """One deal: its facts, a stage selector, the stage history with the time spent in
    each stage, key-field history and activities."""
    deal = selectors.deal_get(user=request.user, pk=pk)
    history = [
        {"change": change, "duration": duration_text(change.seconds_in_previous)}
        for change in selectors.deal_stage_history(deal=deal)
    ]
    can_edit = has_perm(request.user, Perm.CHANGE_RECORDS) and can_see(
        request.user, deal, include_pool=False
    )
    return render(
        request,
        "crm_core/deals/detail.html",
        {
            "deal": deal,
            "stages": deal.pipeline.stages.order_by("position", "id"),
            "history": history,
            "field_history": selectors.deal_field_history(deal=deal),
            "activities": activity_selectors.activity_timeline(record=deal),
            "activity_form": QuickActivityForm(initial={"deal": deal.pk, "kind": "call"}),
            "can_edit": can_edit,
        },
    )
