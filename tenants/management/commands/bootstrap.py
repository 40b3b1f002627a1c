import os

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand
from django.db import connection

from accounts.models import User
from tenants.demo import DEMO_OWNER_EMAIL, demo_tenant_ensure
from tenants.provisioning import pool_refill
from tenants.services import public_site_ensure


class Command(BaseCommand):
    help = "Migrate, create the public site, an operator, the tenant pool and the demo company."

    def add_arguments(self, parser):
        parser.add_argument("--port", default=os.environ.get("PORT", "8000"))
        parser.add_argument("--no-demo", action="store_true")

    def handle(self, *args, port, no_demo, **options):
        password = os.environ.get("CRM_DEMO_PASSWORD", "demo-password-2026")
        operator_email = os.environ.get("CRM_OPERATOR_EMAIL", "operator@example.com")
        operator_password = os.environ.get("CRM_OPERATOR_PASSWORD", password)
        call_command("migrate_schemas", interactive=False, verbosity=0)
        connection.set_schema_to_public()
        public_site_ensure()
        if not User.objects.filter(email=operator_email).exists():
            User.objects.create_superuser(operator_email, operator_password, full_name="Operator")
        built = pool_refill()
        self.stdout.write(f"Tenant pool ready ({built} schemas built).")
        base = f"{settings.CRM_PUBLIC_SCHEME}://{settings.CRM_BASE_DOMAIN}:{port}"
        lines = [
            "",
            "CRM is starting.",
            f"  Public site (signup):  {base}/",
            f"  Operator admin:        {base}/admin/  ({operator_email} / {operator_password})",
        ]
        if not no_demo:
            demo, _created = demo_tenant_ensure(password=password)
            lines.append(f"  Demo company:          {demo.url}/  ({DEMO_OWNER_EMAIL} / {password})")
        lines.append("  Press Ctrl-C to stop.\n")
        self.stdout.write("\n".join(lines))
