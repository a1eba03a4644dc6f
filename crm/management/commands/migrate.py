"""`migrate` as the owner role of the tables (crm/dbroles.py), never as the app role the site connects with."""

from __future__ import annotations

import os

from django.conf import settings
from django.core.management.commands import migrate
from django.db import connections

from crm import dbroles


class Command(migrate.Command):
    def handle(self, *args, **options):  # type: ignore[no-untyped-def]
        owner = settings.DATABASE_OWNER
        admin_url = os.environ.get("DATABASE_ADMIN_URL", "")
        connection = owner["CONNECTION"]
        if admin_url and connection is not None and connection["OPTIONS"].get("assume_role"):
            # A database made before the owner role (the app role owns its tables) is handed over first.
            dbroles.prepare_database(
                admin_url,
                connections[options["database"]].settings_dict["NAME"],
                app_role=owner["APP_ROLE"],
                owner_role=owner["ROLE"],
            )
        with dbroles.as_owner(options["database"]) as switched:
            if not switched and options["verbosity"] >= 1:
                self.stderr.write(
                    "No owner role configured (DATABASE_OWNER_URL or DATABASE_ADMIN_URL): migrating as the app "
                    "role, which then owns the tables and could alter them. See docs/operations.md."
                )
            return super().handle(*args, **options)
