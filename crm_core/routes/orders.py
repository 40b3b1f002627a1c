"""Routes of orders and deliveries."""

from django.urls import path

from ..api import orders as api_views
from ..views import orders as pages_views

pages = [
    path("orders/", pages_views.order_list, name="orders"),
    path("orders/<int:pk>/", pages_views.order_detail, name="order"),
    path("orders/<int:pk>/deliver/", pages_views.order_deliver, name="order_deliver"),
    path("orders/<int:pk>/invoice/", pages_views.order_invoice, name="order_invoice"),
    path("orders/<int:pk>/cancel/", pages_views.order_cancel, name="order_cancel"),
]

api = [
    path("orders/", api_views.OrderListApi.as_view(), name="api-orders"),
    path("orders/<int:pk>/", api_views.OrderDetailApi.as_view(), name="api-order"),
    path(
        "orders/<int:pk>/deliveries/",
        api_views.OrderDeliveriesApi.as_view(),
        name="api-order-deliveries",
    ),
    path("orders/<int:pk>/cancel/", api_views.OrderCancelApi.as_view(), name="api-order-cancel"),
    path("quotes/<int:pk>/order/", api_views.QuoteOrderApi.as_view(), name="api-quote-order"),
    path(
        "contracts/<int:pk>/order/", api_views.ContractOrderApi.as_view(), name="api-contract-order"
    ),
]
