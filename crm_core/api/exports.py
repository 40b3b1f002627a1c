"""REST API for export: customers, contacts and leads as CSV (streamed) or XLSX.

The same filters as the list APIs, and only the records the caller may see.
"""

import csv
import io

from django.db import connection
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django_tenants.utils import schema_context
from drf_spectacular.utils import extend_schema
from rest_framework.views import APIView

from accounts.permissions import api_permission
from accounts.roles import Perm

from ..selectors import exports as selectors
from .contacts import ContactFilters
from .customers import CustomerFilters
from .leads import LeadFilters

ENTITIES = {"customers": "customer", "contacts": "contact", "leads": "lead"}
FILTERS = {"customer": CustomerFilters, "contact": ContactFilters, "lead": LeadFilters}
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class _Echo:
    def write(self, value):
        return value


class ExportApi(APIView):
    permission_classes = [api_permission(Perm.EXPORT_RECORDS)]
    collection = "customers"
    file_format = "csv"

    @extend_schema(responses={(200, "text/csv"): str, (200, XLSX): bytes})
    def get(self, request):
        """The list's rows as a file; the filters of the entity's list API apply."""
        entity = ENTITIES[self.collection]
        params = FILTERS[entity](data=request.query_params)
        params.is_valid(raise_exception=True)
        filters = params.validated_data
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M")
        name = f"{self.collection}-{stamp}.{self.file_format}"
        headers = selectors.export_headers(entity, request.user)
        if self.file_format == "xlsx":
            response = HttpResponse(
                _xlsx(
                    headers,
                    selectors.export_rows(entity=entity, user=request.user, filters=filters),
                ),
                content_type=XLSX,
            )
        else:
            rows = _csv_lines(
                headers,
                entity=entity,
                user=request.user,
                filters=filters,
                schema_name=connection.schema_name,
            )
            response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{name}"'
        return response


def _csv_lines(headers, *, entity, user, filters, schema_name):
    """CSV lines, produced while the response is sent: the rows are read in the
    company's schema even though the request's own handling has finished."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(headers)
    with schema_context(schema_name):
        for row in selectors.export_rows(entity=entity, user=user, filters=filters):
            yield writer.writerow(row)


def _xlsx(headers, rows) -> bytes:
    from openpyxl import Workbook

    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet()
    sheet.append(headers)
    for row in rows:
        sheet.append(row)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()
