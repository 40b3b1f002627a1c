import django
from django.db import models
from django.db.models.base import DJANGO_VERSION_PICKLE_KEY


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        abstract = True


class CustomizableModel(models.Model):
    """A record that takes tenant-defined custom fields (customization/ owns their rules).

    Values live in one JSONB column keyed by each field's API name; inheriting from this
    class is what declares an entity customizable.
    """

    custom_fields = models.JSONField(default=dict, blank=True, editable=False)

    class Meta:
        abstract = True


def instance_copy(instance: models.Model) -> models.Model:
    """`copy.copy(instance)`, without the pickle protocol's detour (a model lookup and
    copyreg, ~3x the cost): the same state copy Django's pickling makes (its own
    `_state` and related-object cache, fields shared)."""
    state = instance.__getstate__()
    state[DJANGO_VERSION_PICKLE_KEY] = django.__version__  # as Model.__reduce__ adds
    clone = instance.__class__.__new__(instance.__class__)
    clone.__setstate__(state)
    return clone
