from django.urls import path

from ..api import customers as api_views
from ..views import customers as page_views

pages = [
    path("customers/", page_views.customer_list, name="customers"),
    path("customers/new/", page_views.customer_create, name="customer_create"),
    path("customers/<int:pk>/", page_views.customer_detail, name="customer"),
    path("customers/<int:pk>/edit/", page_views.customer_edit, name="customer_edit"),
    path("customers/<int:pk>/delete/", page_views.customer_delete, name="customer_delete"),
]

api = [
    path("customers/", api_views.CustomerListApi.as_view(), name="api-customers"),
    path("customers/bulk/", api_views.CustomerBulkApi.as_view(), name="api-customers-bulk"),
    path("customers/<int:pk>/", api_views.CustomerDetailApi.as_view(), name="api-customer"),
    path(
        "customers/<int:pk>/timeline/",
        api_views.CustomerTimelineApi.as_view(),
        name="api-customer-timeline",
    ),
]
