"""The Django-view reference of benchmark 3: the same rows as raw SQL + orjson, in a
plain Django view served by the product's own Django stack (settings, middleware, tenant
resolution by host, connection handling), without DRF, authentication, the plan rate,
the ORM or the product's list code. `bench/crm_list_settings.py` routes it; the
benchmark starts a gunicorn on those settings beside the product's.
"""

from __future__ import annotations

import orjson
from django.db import connection
from django.http import HttpResponse
from django.urls import path

from .crm_list_app import KEYS, LIST_SQL, page, page_size_of

PATH = "/api/bench/customers/"  # under /api/: the same middleware path as the API
_CUSTOM_FIELDS = KEYS.index("custom_fields")


def customers_raw(request) -> HttpResponse:
    page_size = page_size_of(request.GET.get("page_size", "50"))
    with connection.cursor() as cursor:  # the tenant's search path, set by the middleware
        cursor.execute(LIST_SQL, [page_size + 1])
        rows = cursor.fetchall()
    results = []
    for row in rows:
        item = dict(zip(KEYS, row, strict=True))
        item["custom_fields"] = orjson.loads(row[_CUSTOM_FIELDS])  # Django's jsonb is text
        results.append(item)
    body = page(results, request.get_host().partition(":")[0], PATH, page_size)
    return HttpResponse(
        orjson.dumps(body, option=orjson.OPT_UTC_Z), content_type="application/json"
    )


urlpatterns = [path(PATH.lstrip("/"), customers_raw)]
