"""Helpers of the imports tests: run an import from CSV text the way the app does (service + task on commit)."""

from __future__ import annotations

import pytest

from crm.tenancy import tenant_context
from imports.models import ImportJob
from imports.services import import_job_create


@pytest.fixture
def run_import(django_capture_on_commit_callbacks):
    """run_import(membership, kind, text, **options) -> the finished ImportJob (the task runs on commit, in-process)."""

    def _run(membership, kind: str, text: str | bytes, file_name: str = "data.csv", **options) -> ImportJob:
        content = text.encode() if isinstance(text, str) else text
        with django_capture_on_commit_callbacks(execute=True), tenant_context(membership.tenant):
            job = import_job_create(
                tenant=membership.tenant,
                actor=membership.user,
                membership=membership,
                kind=kind,
                file_name=file_name,
                content=content,
                **options,
            )
        with tenant_context(membership.tenant):
            return ImportJob.objects.get(pk=job.pk)

    return _run


def stored_job(tenant, user, text: str | bytes, file_name: str = "x.csv", **fields) -> ImportJob:
    """A job row with its file stored as an upload is (for tests that set the job's state by hand)."""
    from django.core.files.base import ContentFile

    content = text.encode() if isinstance(text, str) else text
    with tenant_context(tenant):
        job = ImportJob(tenant=tenant, kind=fields.pop("kind", "leads"), file_name=file_name, created_by=user)
        for name, value in fields.items():
            setattr(job, name, value)
        job.file.save("upload.csv", ContentFile(content), save=False)
        job.save()
        return job


def csv_text(*lines: str) -> str:
    return "\n".join(lines) + "\n"


def list_values(tenant, **lists: list[str]) -> None:
    """Values the company added to its lists (list key -> values), as set-up before an import that uses them."""
    from tests.factories import ValueListItemFactory

    for list_key, values in lists.items():
        for value in values:
            ValueListItemFactory(tenant=tenant, list_key=list_key, value=value, label="")


def search_entry_text(kind: str, record_id: int) -> str:
    """The global search's entry of a record (crm_search_entry, kept by the database's triggers)."""
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT text FROM crm_search_entry WHERE kind = %s AND record_id = %s", [kind, record_id]
        )
        (text,) = cursor.fetchone()
    return text
