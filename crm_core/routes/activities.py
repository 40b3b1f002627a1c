"""Routes of the activities area (see crm_core/routes/__init__.py)."""

from django.urls import path

from ..api import activities as api_views
from ..views import activities as page_views

pages = [
    path("activities/", page_views.activity_list, name="activities"),
    path("activities/new/", page_views.activity_create, name="activity_create"),
    path("activities/<int:pk>/complete/", page_views.activity_complete, name="activity_complete"),
    path("calendar/", page_views.activity_calendar, name="calendar"),
]

api = [
    path("activities/", api_views.ActivityListApi.as_view(), name="api-activities"),
    path("activities/<int:pk>/", api_views.ActivityDetailApi.as_view(), name="api-activity"),
    path(
        "activities/<int:pk>/complete/",
        api_views.ActivityCompleteApi.as_view(),
        name="api-activity-complete",
    ),
    path(
        "activities/<int:pk>/check-in/",
        api_views.ActivityCheckInApi.as_view(),
        name="api-activity-check-in",
    ),
]
