"""Bulk create/update of records through their own services, all or nothing."""

from __future__ import annotations

from collections.abc import Callable

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Model, QuerySet
from django.utils.translation import gettext as _

MAX_BULK = 100


def records_bulk_save(
    *,
    actor,
    items: list[dict],
    visible_records: QuerySet,
    create: Callable[..., Model],
    update: Callable[..., Model],
) -> list[Model]:
    """Create (items without "id") or update (with "id") up to MAX_BULK records.

    `create(actor=, data=)` and `update(record, actor=, data=)` are the record's own
    services, so every rule applies. Ids outside `visible_records` are "not found".
    Any error rolls everything back; errors are keyed "<position>.<field>".
    """
    if len(items) > MAX_BULK:
        raise ValidationError({"items": [_("At most 100 records at once.")]})
    saved, errors = [], {}
    with transaction.atomic():
        for index, item in enumerate(items):
            item = dict(item)
            pk = item.pop("id", None)
            try:
                with transaction.atomic():
                    if pk is None:
                        saved.append(create(actor=actor, data=item))
                        continue
                    record = visible_records.filter(pk=pk).first()
                    if record is None:
                        raise ValidationError({"id": [_("Not found.")]})
                    saved.append(update(record, actor=actor, data=item))
            except ValidationError as exc:
                fields = (
                    exc.message_dict
                    if hasattr(exc, "error_dict")
                    else {"non_field_errors": exc.messages}
                )
                errors.update({f"{index}.{field}": messages for field, messages in fields.items()})
            except PermissionDenied:
                errors[f"{index}.non_field_errors"] = [_("Not allowed.")]
        if errors:
            transaction.set_rollback(True)
            raise ValidationError(errors)
    return saved
