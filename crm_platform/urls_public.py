"""URLs on the public host (CRM_BASE_DOMAIN): signup, operators' admin, API docs."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import views as accounts_views
from tenants import api as tenants_api
from tenants import views as tenants_views

urlpatterns = [
    path("", tenants_views.signup, name="signup"),
    path("admin/", admin.site.urls),
    path("i18n/language/", accounts_views.language_switch, name="language_switch"),
    path("api/v1/signup/", tenants_api.SignupApi.as_view(), name="api-signup"),
    path("", include("billing.urls")),
    path(
        "api/schema/",
        SpectacularAPIView.as_view(urlconf="crm_platform.urls_public"),
        name="api-schema",
    ),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
]
