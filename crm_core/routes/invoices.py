"""Routes of invoices, payments, collections and the sales summary."""

from django.urls import path

from ..api import invoices as api_views
from ..views import invoices as pages_views

pages = [
    path("invoices/", pages_views.invoice_list, name="invoices"),
    path("invoices/<int:pk>/", pages_views.invoice_detail, name="invoice"),
    path("invoices/<int:pk>/cancel/", pages_views.invoice_cancel, name="invoice_cancel"),
    path("collections/", pages_views.collections, name="collections"),
    path("sales-summary/", pages_views.sales_summary, name="sales_summary"),
]

api = [
    path("invoices/", api_views.InvoiceListApi.as_view(), name="api-invoices"),
    path("invoices/<int:pk>/", api_views.InvoiceDetailApi.as_view(), name="api-invoice"),
    path(
        "invoices/<int:pk>/payments/",
        api_views.InvoicePaymentsApi.as_view(),
        name="api-invoice-payments",
    ),
    path(
        "invoices/<int:pk>/cancel/", api_views.InvoiceCancelApi.as_view(), name="api-invoice-cancel"
    ),
    path(
        "orders/<int:pk>/invoices/", api_views.OrderInvoicesApi.as_view(), name="api-order-invoices"
    ),
    path("collections/", api_views.CollectionsApi.as_view(), name="api-collections"),
    path("sales-summary/", api_views.SalesSummaryApi.as_view(), name="api-sales-summary"),
]
