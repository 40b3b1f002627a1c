from functools import wraps

from django.core.exceptions import PermissionDenied
from rest_framework.permissions import BasePermission

from .roles import has_perm


def api_permission(perm: str) -> type[BasePermission]:
    """A DRF permission class requiring the named permission."""

    class _HasPerm(BasePermission):
        message = f"This needs the permission {perm}."

        def has_permission(self, request, view):
            return has_perm(request.user, perm)

    _HasPerm.__name__ = f"HasPerm[{perm}]"
    return _HasPerm


def page_permission(perm: str):
    """A view decorator requiring the named permission (403 otherwise)."""

    def decorator(view):
        @wraps(view)
        def wrapped(request, *args, **kwargs):
            if not has_perm(request.user, perm):
                raise PermissionDenied
            return view(request, *args, **kwargs)

        return wrapped

    return decorator
