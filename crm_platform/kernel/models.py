from django.db import models


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
