"""Routes on a company's host: `urlpatterns` (pages) and `api_urlpatterns` (in /api/v1/)."""

from .workflows import routes as workflow_routes

app_name = "customization"

urlpatterns = [*workflow_routes.pages]  # pages
api_urlpatterns = [*workflow_routes.api]
