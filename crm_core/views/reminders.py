"""The notification centre page: my notifications (unread first), mark read."""

from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from accounts.permissions import page_permission
from accounts.roles import Perm

from ..selectors import reminders as selectors
from ..services import reminders as services


@login_required
@page_permission(Perm.VIEW_RECORDS)
def notification_list(request):
    rows = selectors.notification_queryset(user=request.user).order_by("-sort_key")
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    for notification in page:
        notification.link = services.notification_link(notification)
    return render(
        request,
        "crm_core/reminders/list.html",
        {"page": page, "unread": selectors.unread_count(user=request.user)},
    )


@login_required
@page_permission(Perm.VIEW_RECORDS)
@require_POST
def notification_read(request, pk):
    """Mark read; with `open`, go on to the notification's record."""
    notification = selectors.notification_get(user=request.user, pk=pk)
    services.notification_mark_read(notification=notification, user=request.user)
    link = services.notification_link(notification)
    if request.POST.get("open") and link:
        return redirect(link)
    if request.htmx:
        notification.link = link
        return render(request, "crm_core/reminders/_item.html", {"notification": notification})
    return redirect("crm:notifications")


@login_required
@page_permission(Perm.VIEW_RECORDS)
@require_POST
def notification_read_all(request):
    services.notifications_mark_all_read(user=request.user)
    return redirect("crm:notifications")
