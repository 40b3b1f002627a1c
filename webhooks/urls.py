"""Routes on a company's host: `urlpatterns` (pages) and `api_urlpatterns` (in /api/v1/)."""

from django.urls import path

from . import api, api_inbound, views

app_name = "webhooks"

urlpatterns = [
    path("webhooks/", views.endpoint_list, name="endpoints"),
    path("webhooks/<int:pk>/", views.endpoint_edit, name="endpoint"),
    path("webhooks/<int:pk>/rotate/", views.endpoint_rotate, name="endpoint_rotate"),
    path("webhooks/<int:pk>/reveal/", views.endpoint_reveal, name="endpoint_reveal"),
    path("webhooks/<int:pk>/test/", views.endpoint_test, name="endpoint_test"),
    path("webhooks/<int:pk>/delete/", views.endpoint_delete, name="endpoint_delete"),
    path("webhooks/deliveries/", views.delivery_list, name="deliveries"),
    path("webhooks/deliveries/<int:pk>/", views.delivery_detail, name="delivery"),
    path("webhooks/deliveries/<int:pk>/replay/", views.delivery_replay, name="delivery_replay"),
]

api_urlpatterns = [
    path("webhook-endpoints/", api.EndpointListApi.as_view(), name="api-webhook-endpoints"),
    path(
        "webhook-endpoints/<int:pk>/",
        api.EndpointDetailApi.as_view(),
        name="api-webhook-endpoint",
    ),
    path(
        "webhook-endpoints/<int:pk>/rotate-secret/",
        api.EndpointRotateSecretApi.as_view(),
        name="api-webhook-endpoint-rotate",
    ),
    path(
        "webhook-endpoints/<int:pk>/reveal-secret/",
        api.EndpointRevealSecretApi.as_view(),
        name="api-webhook-endpoint-reveal",
    ),
    path(
        "webhook-endpoints/<int:pk>/test/",
        api.EndpointTestApi.as_view(),
        name="api-webhook-endpoint-test",
    ),
    path("webhook-deliveries/", api.DeliveryListApi.as_view(), name="api-webhook-deliveries"),
    path(
        "webhook-deliveries/<int:pk>/",
        api.DeliveryDetailApi.as_view(),
        name="api-webhook-delivery",
    ),
    path(
        "webhook-deliveries/<int:pk>/replay/",
        api.DeliveryReplayApi.as_view(),
        name="api-webhook-delivery-replay",
    ),
    path("inbound/records/", api_inbound.InboundRecordApi.as_view(), name="api-inbound-records"),
]
