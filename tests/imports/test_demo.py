"""The imports area's demo data: a finished migration of legacy leads with three refused rows."""

from __future__ import annotations

import random

import pytest

from crm.models import Role
from crm.tenancy import tenant_context
from imports import demo
from imports.models import ImportJob, ImportStatus
from leads.models import Lead

pytestmark = pytest.mark.django_db


def test_demo_import_job_shows_a_finished_migration_with_row_errors(tenant, member, admin_member):
    members = {
        "admin": admin_member,
        "ops": member(role=Role.OPS),
        "rep": member(role=Role.SALES_REP),
        "rep2": member(role=Role.SALES_REP),
    }
    with tenant_context(tenant):
        demo.seed(tenant=tenant, members=members, rng=random.Random(1))
        job = ImportJob.objects.get()
        assert (job.status, job.kind, job.created, job.failed) == (ImportStatus.DONE, "leads", demo.ROWS, 3)
        assert {(error["column"]) for error in job.row_errors} == {"status", "created_at", "owner_email"}
        assert all(error["row"] > demo.ROWS for error in job.row_errors)
        # uploaded from the ops member's pages
        assert job.language == (members["ops"].user.language or tenant.default_locale)
        legacy = Lead.objects.filter(external_id__startswith="legacy-")
        assert legacy.count() == demo.ROWS
        assert legacy.filter(owner__isnull=True).count() == 0
        oldest = legacy.order_by("created_at").first()
        assert (job.finished_at - oldest.created_at).days > 300  # historical timestamps kept
