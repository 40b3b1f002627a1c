"""Every index of a company's schema earns its keep: an index whose columns begin
another index costs each insert and every schema build, and serves no query the
longer one does not."""

import pytest
from django.db import connection

# Django's own tables (auth, axes) are theirs to index.
OWN_TABLE_PREFIXES = ("crm_core_", "customization_", "webhooks_", "outbox_", "accounts_")
DJANGO_TABLES = ("accounts_user_groups", "accounts_user_user_permissions")
# Foreign keys declared once on an abstract base whose other children need the plain
# index; the longer index exists on this child only.
INHERITED = {
    ("crm_core_quote", "quote_owner_idx"),  # SalesDocument.owner
    ("crm_core_invoice", "invoice_customer_idx"),  # SalesDocument.customer
}

REDUNDANT_SQL = """
WITH idx AS (
    SELECT table_class.relname AS table_name, index_class.relname AS index_name,
           i.indisunique AS is_unique,
           i.indpred IS NOT NULL OR i.indexprs IS NOT NULL AS is_special,
           array_to_string(i.indkey::int2[], ',') || ',' AS columns,
           am.amname AS method
    FROM pg_index i
    JOIN pg_class table_class ON table_class.oid = i.indrelid
    JOIN pg_class index_class ON index_class.oid = i.indexrelid
    JOIN pg_am am ON am.oid = index_class.relam
    JOIN pg_namespace n ON n.oid = table_class.relnamespace
    WHERE n.nspname = %s
)
SELECT shorter.table_name, shorter.index_name, longer.index_name
FROM idx shorter
JOIN idx longer ON longer.table_name = shorter.table_name
    AND longer.index_name <> shorter.index_name
    AND longer.method = shorter.method
    AND NOT longer.is_special
    AND length(longer.columns) > length(shorter.columns)
    AND starts_with(longer.columns, shorter.columns)
WHERE NOT shorter.is_unique AND NOT shorter.is_special AND shorter.method = 'btree'
ORDER BY 1, 2
"""


@pytest.mark.django_db
def test_no_index_is_the_start_of_another(world):
    with connection.cursor() as cursor:
        cursor.execute(REDUNDANT_SQL, [world.a.tenant.schema_name])
        redundant = [
            row
            for row in cursor.fetchall()
            if row[0].startswith(OWN_TABLE_PREFIXES)
            and row[0] not in DJANGO_TABLES
            and (row[0], row[2]) not in INHERITED
        ]
    assert redundant == []
