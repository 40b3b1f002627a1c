"""Routes of the contacts area (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import contacts as api_views
from ..views import contacts as page_views

pages = [
    path("contacts/", page_views.contact_list, name="contacts"),
    path("contacts/new/", page_views.contact_create, name="contact_create"),
    path("contacts/<int:pk>/", page_views.contact_detail, name="contact"),
    path("contacts/<int:pk>/edit/", page_views.contact_edit, name="contact_edit"),
    path("contacts/<int:pk>/delete/", page_views.contact_delete, name="contact_delete"),
]

api = [
    path("contacts/", api_views.ContactListApi.as_view(), name="api-contacts"),
    path("contacts/bulk/", api_views.ContactBulkApi.as_view(), name="api-contacts-bulk"),
    path("contacts/<int:pk>/", api_views.ContactDetailApi.as_view(), name="api-contact"),
]
