"""Issue 12 item 9 (the rest): the import page's help and a bad timestamp's row error agree: both give a time
without an offset (read in the company's time zone) and one with an offset, and both examples import."""

from __future__ import annotations

import datetime

import pytest
from django.urls import reverse

from crm.tenancy import tenant_context
from leads.models import Lead
from tests.imports.conftest import csv_text

pytestmark = pytest.mark.django_db

NAIVE, WITH_OFFSET = "2024-03-01 09:30", "2024-03-01T09:30:00+08:00"


def test_help_and_error_give_the_same_two_examples(tenant, admin_member, client_for, run_import):
    page = client_for(admin_member).get(reverse("imports:import-list", kwargs={"slug": tenant.slug}))
    help_text = page.content.decode()
    assert "without an offset" not in help_text
    assert f"{NAIVE} is read in this company's time zone ({tenant.time_zone})" in help_text
    assert f"{WITH_OFFSET} carries its own offset" in help_text
    job = run_import(
        admin_member,
        "leads",
        csv_text(
            "external_id,last_name,email,created_at",
            f"L-1,One,one@example.test,{NAIVE}",
            f"L-2,Two,two@example.test,{WITH_OFFSET}",
            "L-3,Three,three@example.test,01/03/2024 9:30",
        ),
    )
    [error] = job.row_errors
    assert (error["row"], error["column"]) == (4, "created_at")
    assert NAIVE in error["reason"] and WITH_OFFSET in error["reason"]
    with tenant_context(tenant):
        one, two = (Lead.objects.get(external_id=key).created_at for key in ("L-1", "L-2"))
    # The tenant is in Asia/Shanghai (+08:00): both examples are the same instant.
    assert one == two == datetime.datetime(2024, 3, 1, 1, 30, tzinfo=datetime.UTC)
