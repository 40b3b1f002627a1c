"""Serializer bases shared by every app's API.

(Kept apart from kernel.api, which DRF's settings import: importing DRF serializers there
would be circular.)
"""

from rest_framework import serializers


class StrictInput(serializers.Serializer):
    """An input serializer that rejects keys it does not declare (no mass assignment)."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = sorted(set(data) - set(self.fields))
            if unknown:
                raise serializers.ValidationError({key: ["Unknown field."] for key in unknown})
        return super().to_internal_value(data)
