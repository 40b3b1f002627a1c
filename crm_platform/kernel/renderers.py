"""The API's JSON renderer (DRF's DEFAULT_RENDERER_CLASSES).

Kept free of rest_framework.views, which reads this setting when it is imported.
"""

from decimal import Decimal

import orjson
from django.utils.functional import Promise
from rest_framework import renderers


class ORJSONRenderer(renderers.JSONRenderer):
    """JSON via orjson: several times faster than json on list pages."""

    def render(self, data, accepted_media_type=None, renderer_context=None):
        if data is None:
            return b""
        return orjson.dumps(
            data, default=_orjson_default, option=orjson.OPT_NON_STR_KEYS | orjson.OPT_UTC_Z
        )


def _orjson_default(value):
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, Promise):  # lazy translations
        return str(value)
    raise TypeError(type(value).__name__)
