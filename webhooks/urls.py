"""Routes on a company's host: `urlpatterns` (pages) and `api_urlpatterns` (in /api/v1/)."""

app_name = "webhooks"

urlpatterns = []  # pages
api_urlpatterns = []
