from django.conf import settings
from django.db import connection
from django.http import Http404, JsonResponse
from django.shortcuts import render
from django.utils.translation import gettext as _
from django_tenants.middleware.main import TenantMainMiddleware

from crm_platform.kernel.context_vars import tenant_var
from crm_platform.kernel.models import instance_copy
from crm_platform.kernel.sentry import tag_tenant

from .models import Domain, Tenant
from .resolution import host_cache


def _load_tenant(host: str) -> Tenant | None:
    domain = Domain.objects.select_related("tenant").filter(domain=host).first()
    return domain.tenant if domain else None


class TenantMiddleware(TenantMainMiddleware):
    """django-tenants' host routing, with warm lookups served from the host cache.

    The host comes from `request.get_host()`, which honours X-Forwarded-Host only when
    USE_X_FORWARDED_HOST is set (it is not), and is checked against ALLOWED_HOSTS.
    """

    def get_tenant(self, domain_model, hostname):
        tenant = host_cache.get(hostname, _load_tenant)
        if tenant is None:
            raise domain_model.DoesNotExist
        # Each request gets its own copy: a view changing request.tenant must not change
        # what concurrent requests in this process see.
        return instance_copy(tenant)

    def no_tenant_found(self, request, hostname):
        raise Http404(f"No company at {hostname}")

    def process_request(self, request):
        response = super().process_request(request)
        tenant_var.set(connection.schema_name)
        tag_tenant(connection.schema_name)
        return response


# Paths a read-only company may still POST to (sign in and out, switch language, add a
# card to subscribe again).
_READ_ONLY_ALLOWED = (
    "/accounts/login/",
    "/accounts/logout/",
    "/i18n/language/",
    "/settings/billing/card/",
    "/api/v1/billing/card/",
)
_SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def _blocked(request, status: int, code: str, message: str, template: str):
    if request.path.startswith("/api/"):
        return JsonResponse(
            {"error": {"code": code, "message": message, "fields": {}}}, status=status
        )
    return render(request, template, {"message": message, "tenant": request.tenant}, status=status)


class TenantStatusMiddleware:
    """What a company's lifecycle state allows: setting up, read-only, suspended."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        tenant = getattr(request, "tenant", None)
        if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME:
            return self.get_response(request)
        status = tenant.status
        if status == Tenant.Status.PROVISIONING:
            return _blocked(
                request,
                503,
                "provisioning",
                _("Your workspace is being set up. This takes a few seconds."),
                "tenants/setting_up.html",
            )
        if status in (Tenant.Status.SUSPENDED, Tenant.Status.CANCELLED):
            return _blocked(
                request,
                403,
                "suspended",
                _("This workspace is suspended. Contact your administrator."),
                "tenants/suspended.html",
            )
        if status not in Tenant.LIVE_STATUSES:
            raise Http404
        if (
            status == Tenant.Status.READ_ONLY
            and request.method not in _SAFE_METHODS
            and request.path not in _READ_ONLY_ALLOWED
        ):
            return _blocked(
                request,
                403,
                "read_only",
                _(
                    "This workspace is read-only: its subscription has lapsed. "
                    "You can still view and export your data."
                ),
                "tenants/suspended.html",
            )
        return self.get_response(request)
