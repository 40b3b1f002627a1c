from django.conf import settings

from accounts.roles import Perm, has_perm

from .models import Notification


def shell(request):
    """What every company page needs from the CRM: the bell's unread count, export rights."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if (
        tenant is None
        or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME
        or not (user and user.is_authenticated)
    ):
        return {}
    return {
        "unread_notifications": Notification.objects.filter(
            user=user, read_at__isnull=True
        ).count(),
        "can_export": has_perm(user, Perm.EXPORT_RECORDS),
        "can_delete_records": has_perm(user, Perm.DELETE_RECORDS),
    }
