"""Routes of contracts."""

from django.urls import path

from ..api import contracts as api_views
from ..views import contracts as pages_views

pages = [
    path("contracts/", pages_views.contract_list, name="contracts"),
    path("contracts/new/", pages_views.contract_edit, name="contract_create"),
    path("contracts/<int:pk>/", pages_views.contract_detail, name="contract"),
    path("contracts/<int:pk>/edit/", pages_views.contract_edit, name="contract_edit"),
    path(
        "contracts/<int:pk>/<slug:action>/",
        pages_views.contract_action,
        name="contract_action",
    ),
]

api = [
    path("contracts/", api_views.ContractListApi.as_view(), name="api-contracts"),
    path("contracts/<int:pk>/", api_views.ContractDetailApi.as_view(), name="api-contract"),
    path(
        "contracts/<int:pk>/submit/",
        api_views.ContractSubmitApi.as_view(),
        name="api-contract-submit",
    ),
    path(
        "contracts/<int:pk>/terminate/",
        api_views.ContractTerminateApi.as_view(),
        name="api-contract-terminate",
    ),
    path(
        "quotes/<int:pk>/contract/", api_views.QuoteContractApi.as_view(), name="api-quote-contract"
    ),
]
