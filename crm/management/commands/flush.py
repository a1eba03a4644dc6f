"""`flush` as the owner role (crm/dbroles.py): it empties the tables with TRUNCATE, which the app role may not
use (TRUNCATE ignores row-level security). The test runner flushes this way after each transactional test."""

from __future__ import annotations

from django.core.management.commands import flush

from crm.dbroles import as_owner


class Command(flush.Command):
    def handle(self, **options):  # type: ignore[no-untyped-def]
        with as_owner(options["database"]):
            return super().handle(**options)
