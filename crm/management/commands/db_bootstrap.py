"""Create the owner and app roles and the database with a superuser URL (CI, docker-compose). Idempotent."""

import os

from django.core.management.base import BaseCommand

from crm.dbroles import DEFAULT_APP_ROLE, DEFAULT_OWNER_ROLE, ensure_roles


class Command(BaseCommand):
    help = (
        "Create the owner role (owns the tables, runs migrate) and the app role (data privileges only, NOBYPASSRLS) "
        "and their database using DATABASE_ADMIN_URL; adopt a database the app role still owns."
    )

    requires_system_checks: list = []

    def add_arguments(self, parser):  # type: ignore[no-untyped-def]
        parser.add_argument("--admin-url", default=os.environ.get("DATABASE_ADMIN_URL", ""))
        parser.add_argument("--role", default=os.environ.get("DATABASE_APP_ROLE", DEFAULT_APP_ROLE))
        parser.add_argument("--password", default=os.environ.get("DATABASE_APP_PASSWORD", "crm_app"))
        parser.add_argument("--owner-role", default=os.environ.get("DATABASE_OWNER_ROLE", DEFAULT_OWNER_ROLE))
        parser.add_argument("--owner-password", default=os.environ.get("DATABASE_OWNER_PASSWORD", ""))
        parser.add_argument("--database", default=os.environ.get("DATABASE_NAME", "crm"))

    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        if not options["admin_url"]:
            self.stderr.write("No DATABASE_ADMIN_URL given; nothing to do.")
            return
        ensure_roles(
            options["admin_url"],
            app_role=options["role"],
            app_password=options["password"],
            owner_role=options["owner_role"],
            owner_password=options["owner_password"] or None,
            database=options["database"],
        )
        self.stdout.write(
            self.style.SUCCESS(
                f"roles {options['owner_role']} (owner) and {options['role']} (app) "
                f"and database {options['database']} ready"
            )
        )
