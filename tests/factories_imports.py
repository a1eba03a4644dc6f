"""Factories of the imports app; see tests/factories.py."""

from __future__ import annotations

import factory

from imports.models import ImportJob, ImportStatus
from tests.factories import TenantOwnedFactory

__all__ = ["ImportJobFactory"]


class ImportJobFactory(TenantOwnedFactory):
    class Meta:
        model = ImportJob

    kind = "leads"
    file_name = factory.Sequence(lambda n: f"import-{n}.csv")
    status = ImportStatus.DONE
    total = 2
    processed = 2
    created = 1
    failed = 1
    row_errors = factory.LazyFunction(
        lambda: [{"row": 3, "column": "email", "reason": "Enter a valid email address."}]
    )
