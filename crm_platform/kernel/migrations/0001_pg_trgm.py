from django.db import migrations


class Migration(migrations.Migration):
    """pg_trgm lives in the public schema (a shared app's migration), once per database:
    tenant schemas reach its operator classes through their search_path."""

    initial = True
    dependencies = []

    operations = [
        migrations.RunSQL("CREATE EXTENSION IF NOT EXISTS pg_trgm SCHEMA public",
                          reverse_sql=migrations.RunSQL.noop),
    ]
