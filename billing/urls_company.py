"""Routes on a company's host: `urlpatterns` (pages) and `api_urlpatterns` (in /api/v1/)."""

app_name = "billing_company"

urlpatterns = []  # pages
api_urlpatterns = []
