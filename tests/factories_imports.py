"""Factories of the imports app; see tests/factories.py."""

from __future__ import annotations

import factory

from imports.models import ImportJob, ImportMapping, ImportStatus
from tests.factories import TenantOwnedFactory

__all__ = ["ImportJobFactory", "ImportMappingFactory"]


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


class ImportMappingFactory(TenantOwnedFactory):
    class Meta:
        model = ImportMapping
        django_get_or_create = ("tenant", "kind")

    kind = "leads"
    mapping = factory.LazyFunction(lambda: {"Surname": "last_name", "Notes": ""})
