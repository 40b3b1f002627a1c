"""Cursor pagination for API lists (DRF's DEFAULT_PAGINATION_CLASS)."""

from rest_framework import pagination


class CursorPagination(pagination.CursorPagination):
    """Stable pages over large lists; rows may be dicts from `.values()` (lean lists)."""

    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 100
    ordering = "-id"

    def _get_position_from_instance(self, instance, ordering):
        field_name = ordering[0].lstrip("-")
        value = (
            instance[field_name] if isinstance(instance, dict) else getattr(instance, field_name)
        )
        return str(value)
