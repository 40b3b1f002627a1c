"""The CRM's pages (namespace "crm") and its API routes (joined into /api/v1/)."""

from importlib import import_module

from .routes import AREAS

app_name = "crm"

_modules = [import_module(f"crm_core.routes.{area}") for area in AREAS]
urlpatterns = [route for module in _modules for route in module.pages]
api_urlpatterns = [route for module in _modules for route in module.api]
