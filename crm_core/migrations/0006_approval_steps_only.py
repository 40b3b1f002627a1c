# The fields the approval steps replaced (a migration of their own: PostgreSQL refuses to
# alter a table with pending trigger events from 0005's data migration).

from django.db import migrations


class Migration(migrations.Migration):

    dependencies = [
        ('crm_core', '0005_approval_processes'),
    ]

    operations = [
        migrations.RemoveField(
            model_name='approvalrequest',
            name='approver',
        ),
        migrations.RemoveField(
            model_name='approvalrequest',
            name='approver_role',
        ),
        migrations.RemoveField(
            model_name='salessettings',
            name='discount_approval_percent',
        ),
]
