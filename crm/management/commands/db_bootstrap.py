"""Create the application role and database with a superuser URL (CI, docker-compose). Idempotent."""

import os

from django.core.management.base import BaseCommand

from crm.dbroles import ensure_app_role


class Command(BaseCommand):
    help = "Create the non-superuser app role (NOBYPASSRLS) and its database using DATABASE_ADMIN_URL."

    requires_system_checks: list = []

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--admin-url", default=os.environ.get("DATABASE_ADMIN_URL", ""))
        parser.add_argument("--role", default=os.environ.get("DATABASE_APP_ROLE", "crm_app"))
        parser.add_argument("--password", default=os.environ.get("DATABASE_APP_PASSWORD", "crm_app"))
        parser.add_argument("--database", default=os.environ.get("DATABASE_NAME", "crm"))

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if not options["admin_url"]:
            self.stderr.write("No DATABASE_ADMIN_URL given; nothing to do.")
            return
        ensure_app_role(
            options["admin_url"],
            role=options["role"],
            password=options["password"],
            database=options["database"],
        )
        self.stdout.write(
            self.style.SUCCESS(f"role {options['role']} and database {options['database']} ready")
        )
