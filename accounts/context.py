from django.conf import settings
from django.utils import timezone

from .roles import Perm, has_perm


def shell(request):
    """What the page shell (navigation, banners, user menu) needs on every page."""
    tenant = getattr(request, "tenant", None)
    is_company = tenant is not None and tenant.schema_name != settings.PUBLIC_SCHEMA_NAME
    user = getattr(request, "user", None)
    trial_days_left = None
    if is_company and tenant.status == "trial" and tenant.trial_ends_at:
        trial_days_left = max(0, (tenant.trial_ends_at - timezone.now()).days)
    return {
        "company": tenant if is_company else None,
        "trial_days_left": trial_days_left,
        "nav": {
            "users": has_perm(user, Perm.VIEW_USERS),
            "tokens": has_perm(user, Perm.USE_API_TOKENS),
            "pipelines": has_perm(user, Perm.MANAGE_PIPELINES),
            "pool_rules": has_perm(user, Perm.MANAGE_POOL_RULES),
            "custom_fields": has_perm(user, Perm.MANAGE_CUSTOM_FIELDS),
            "workflows": has_perm(user, Perm.MANAGE_WORKFLOWS),
            "webhooks": has_perm(user, Perm.MANAGE_WEBHOOKS),
            "billing": has_perm(user, Perm.MANAGE_BILLING),
            "sales_summary": has_perm(user, Perm.VIEW_SALES_REPORTS),
            "sales_settings": has_perm(user, Perm.MANAGE_SALES_SETTINGS),
        }
        if is_company
        else {},
    }
