"""Routes of approval requests (the processes themselves are in customization/)."""

from django.urls import path

from ..api import approvals as api_views
from ..views import approvals as pages_views

pages = [
    path("approvals/", pages_views.approval_list, name="approvals"),
    path("approvals/submit/", pages_views.approval_submit, name="approval_submit"),
    path("approvals/<int:pk>/decide/", pages_views.approval_decide, name="approval_decide"),
    path("approvals/<int:pk>/withdraw/", pages_views.approval_withdraw, name="approval_withdraw"),
]

api = [
    path("approvals/", api_views.ApprovalListApi.as_view(), name="api-approvals"),
    path("approvals/submit/", api_views.ApprovalSubmitApi.as_view(), name="api-approval-submit"),
    path("approvals/<int:pk>/", api_views.ApprovalDetailApi.as_view(), name="api-approval"),
    path(
        "approvals/<int:pk>/decide/",
        api_views.ApprovalDecideApi.as_view(),
        name="api-approval-decide",
    ),
    path(
        "approvals/<int:pk>/withdraw/",
        api_views.ApprovalWithdrawApi.as_view(),
        name="api-approval-withdraw",
    ),
]
