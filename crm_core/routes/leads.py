"""Routes of the leads area (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import leads as api_views
from ..views import leads as page_views

pages = [
    path("leads/", page_views.lead_list, name="leads"),
    path("leads/new/", page_views.lead_create, name="lead_create"),
    path("leads/<int:pk>/", page_views.lead_detail, name="lead"),
    path("leads/<int:pk>/edit/", page_views.lead_edit, name="lead_edit"),
    path("leads/<int:pk>/delete/", page_views.lead_delete, name="lead_delete"),
    path("leads/<int:pk>/convert/", page_views.lead_convert, name="lead_convert"),
]

api = [
    path("leads/", api_views.LeadListApi.as_view(), name="api-leads"),
    path("leads/bulk/", api_views.LeadBulkApi.as_view(), name="api-leads-bulk"),
    path("leads/<int:pk>/", api_views.LeadDetailApi.as_view(), name="api-lead"),
    path("leads/<int:pk>/convert/", api_views.LeadConvertApi.as_view(), name="api-lead-convert"),
]
