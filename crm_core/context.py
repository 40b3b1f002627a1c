from django.conf import settings

from .models import Notification


def shell(request):
    """The notification bell's unread count on every page of a company."""
    tenant = getattr(request, "tenant", None)
    user = getattr(request, "user", None)
    if tenant is None or tenant.schema_name == settings.PUBLIC_SCHEMA_NAME or not (
            user and user.is_authenticated):
        return {}
    return {"unread_notifications": Notification.objects.filter(user=user,
                                                                read_at__isnull=True).count()}
