"""The search page: a type-ahead box whose results update while typing (htmx)."""

from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.permissions import page_permission
from accounts.roles import Perm

from ..selectors import search as selectors


@login_required
@page_permission(Perm.VIEW_RECORDS)
def search_page(request):
    q = (request.GET.get("q") or "")[:100]
    results = selectors.search(user=request.user, q=q, limit=10) if q else {}
    groups = [(kind, results.get(kind, [])) for kind in selectors.TYPES]
    return render(
        request,
        "crm_core/search/page.html",
        {
            "q": q,
            "groups": groups,
            "searched": bool(q),
            "too_short": bool(q) and len(selectors.normalise(q)) < selectors.MIN_LENGTH,
            "any_results": any(rows for _kind, rows in groups),
        },
    )
