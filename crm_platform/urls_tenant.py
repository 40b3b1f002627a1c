"""URLs on a company's host (<subdomain>.<CRM_BASE_DOMAIN>)."""

from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerView

from accounts import api as accounts_api
from accounts import views as accounts_views
from accounts.urls import settings_urlpatterns
from billing import urls_company as billing_company_urls
from crm_core import urls as crm_urls
from crm_core.views import home as home_views
from customization import urls as customization_urls
from webhooks import urls as webhooks_urls

api_v1 = [
    path("me/", accounts_api.MeApi.as_view(), name="api-me"),
    path("users/", accounts_api.UserListApi.as_view(), name="api-users"),
    path("users/<int:pk>/", accounts_api.UserDetailApi.as_view(), name="api-user"),
    path("teams/", accounts_api.TeamListApi.as_view(), name="api-teams"),
    path("teams/<int:pk>/", accounts_api.TeamDetailApi.as_view(), name="api-team"),
    path("invitations/", accounts_api.InvitationListApi.as_view(), name="api-invitations"),
    path(
        "invitations/<int:pk>/", accounts_api.InvitationDetailApi.as_view(), name="api-invitation"
    ),
    path("tokens/", accounts_api.TokenListApi.as_view(), name="api-tokens"),
    path("tokens/<int:pk>/", accounts_api.TokenDetailApi.as_view(), name="api-token"),
    *crm_urls.api_urlpatterns,
    *customization_urls.api_urlpatterns,
    *billing_company_urls.api_urlpatterns,
    *webhooks_urls.api_urlpatterns,
]

urlpatterns = [
    # The API first: resolution tries patterns in order, and pages cost one prefix check.
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    path("api/docs/", SpectacularSwaggerView.as_view(url_name="api-schema"), name="api-docs"),
    path("", home_views.home, name="home"),
    path("", include("crm_core.urls")),
    path("", include("customization.urls")),
    path("", include("webhooks.urls")),
    path("", include("billing.urls_company")),
    path("accounts/", include("accounts.urls")),
    path("settings/", include((settings_urlpatterns, "settings"))),
    path("i18n/language/", accounts_views.language_switch, name="language_switch"),
]
