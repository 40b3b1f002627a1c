"""Routes of the reminders area: the notification centre (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import reminders as api_views
from ..views import reminders as page_views

pages = [
    path("notifications/", page_views.notification_list, name="notifications"),
    path(
        "notifications/read-all/",
        page_views.notification_read_all,
        name="notifications_read_all",
    ),
    path("notifications/<int:pk>/read/", page_views.notification_read, name="notification_read"),
]

api = [
    path("notifications/", api_views.NotificationListApi.as_view(), name="api-notifications"),
    path(
        "notifications/read-all/",
        api_views.NotificationReadAllApi.as_view(),
        name="api-notifications-read-all",
    ),
    path(
        "notifications/<int:pk>/read/",
        api_views.NotificationReadApi.as_view(),
        name="api-notification-read",
    ),
]
