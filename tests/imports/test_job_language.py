"""An import's messages and row errors are stored as text and read later by whoever opens the job, so the worker
writes them in the language of the pages the upload came from, not in whatever language the worker runs in (a
Chinese team got every row error of its migration in English)."""

from __future__ import annotations

import pytest
from django.utils import translation

from crm.tenancy import tenant_context
from imports.models import ImportJob
from imports.services import import_job_create, import_job_run
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db

LEADS = csv_text("external_id,last_name,status", "L-1,Wang,new", "L-2,Li,hot")


def queued(membership, language: str) -> ImportJob:
    """A job uploaded from pages in `language` (the request's), not run yet."""
    with translation.override(language), tenant_context(membership.tenant):
        return import_job_create(
            tenant=membership.tenant,
            actor=membership.user,
            membership=membership,
            kind="leads",
            file_name="leads.csv",
            content=LEADS.encode(),
        )


def run_in_english(membership, job: ImportJob) -> ImportJob:
    """The worker's run, with English active (a worker's default)."""
    with translation.override("en"):
        import_job_run(tenant=membership.tenant, job_id=job.pk)
    with tenant_context(membership.tenant):
        return ImportJob.objects.get(pk=job.pk)


def test_row_errors_are_written_in_the_language_the_upload_came_from(admin_member):
    chinese = run_in_english(admin_member, queued(admin_member, "zh-hans"))
    english = run_in_english(admin_member, queued(admin_member, "en"))
    assert (chinese.language, english.language) == ("zh-hans", "en")
    assert [(e["row"], e["column"]) for e in chinese.row_errors] == [(3, "status")]
    assert [(e["row"], e["column"]) for e in english.row_errors] == [(3, "status")]
    with translation.override("zh-hans"):
        expected = translation.gettext("Unknown value “%(value)s”; use one of: %(choices)s.")
    assert expected != "Unknown value “%(value)s”; use one of: %(choices)s."  # the message has its 中文
    assert chinese.row_errors[0]["reason"].startswith(expected.split("%")[0])
    assert english.row_errors[0]["reason"].startswith("Unknown value “hot”")


def chinese_reason() -> str:
    with translation.override("zh-hans"):
        return translation.gettext("Unknown value “%(value)s”; use one of: %(choices)s.").split("%")[0]


def test_a_job_stored_without_its_language_takes_the_uploaders_then_the_companys(admin_member):
    tenant, user = admin_member.tenant, admin_member.user
    first, second = queued(admin_member, "en"), queued(admin_member, "en")
    with tenant_context(tenant):
        ImportJob.objects.filter(pk__in=[first.pk, second.pk]).update(language="")
    user.language = "zh-hans"
    user.save(update_fields=["language"])
    assert run_in_english(admin_member, first).row_errors[0]["reason"].startswith(chinese_reason())
    user.language = ""
    user.save(update_fields=["language"])
    tenant.default_locale = "zh-hans"
    tenant.save(update_fields=["default_locale"])
    assert run_in_english(admin_member, second).row_errors[0]["reason"].startswith(chinese_reason())
