from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from accounts.selectors import invitation_list_open, team_list, user_list


@login_required
def home(request):
    """The company's start page."""
    return render(
        request,
        "crm_core/home.html",
        {
            "user_count": user_list().filter(is_active=True).count(),
            "team_count": team_list().count(),
            "invitation_count": invitation_list_open().count(),
        },
    )
