"""crm.bulk.copy_insert: what bulk_create writes, through COPY into a temporary twin and one INSERT ... SELECT, with
row-level security, constraints and statement triggers holding as for any insert (issue 10's speed)."""

from __future__ import annotations

import datetime

import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction
from django.forms.models import model_to_dict

from accounts.models import Activity, ActivityKind
from crm.bulk import copy_insert
from crm.history import history_actor
from crm.tenancy import tenant_context
from leads.models import Lead
from tests.factories import UserFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db

AT = datetime.datetime(2024, 5, 1, 9, 30, tzinfo=datetime.UTC)


def new_leads(tenant, prefix: str) -> list[Lead]:
    return [
        LeadFactory.build(
            tenant=tenant,
            external_id=f"{prefix}-{n}",
            first_name="小明",
            last_name=f"Li{n}",
            email="",
            phone="",
            company="北京字节跳动科技有限公司",
            score=n,
            score_reasons=[{"rule": "title", "points": n}],
            created_at=AT,
            mql_at=AT if n else None,
        )
        for n in range(3)
    ]


def picture(lead: Lead) -> dict:
    return model_to_dict(lead, exclude=["id", "external_id", "updated_at"])


def test_it_writes_what_bulk_create_writes(tenant, admin_member):
    with tenant_context(tenant):
        copied, created = new_leads(tenant, "C"), new_leads(tenant, "B")
        with history_actor(admin_member.user):
            copy_insert(Lead, copied)
        Lead.objects.bulk_create(created)
        assert [lead.pk for lead in copied] == sorted(lead.pk for lead in copied)
        assert all(not lead._state.adding for lead in copied)
        stored = {lead.external_id: lead for lead in Lead.objects.all()}
        for lead, twin in zip(copied, created, strict=True):
            assert stored[lead.external_id].pk == lead.pk
            assert picture(stored[lead.external_id]) == picture(stored[twin.external_id])
        # statement triggers saw the set: one insert event per row, booked to the actor; search entries
        booked = set(
            Lead.objects.filter(external_id__startswith="C-").values_list(
                "events__pgh_context__metadata__user", flat=True
            )
        )
        assert booked == {admin_member.user.pk}
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM crm_search_entry WHERE kind = 'lead' AND record_id = ANY(%s)",
                [[lead.pk for lead in copied]],
            )
            assert cursor.fetchone()[0] == 3


def test_row_level_security_refuses_another_tenants_row(tenant, other_tenant):
    with tenant_context(tenant):
        rows = new_leads(tenant, "T")
        rows[1].tenant = other_tenant
        with pytest.raises(DatabaseError, match="row-level security"), transaction.atomic():
            copy_insert(Lead, rows)
        assert not Lead.objects.exists()
        copy_insert(Lead, new_leads(tenant, "T"))  # the transaction goes on; the twin kept nothing
        assert Lead.objects.count() == 3
    with tenant_context(other_tenant):
        assert not Lead.objects.exists()


def test_constraints_hold_for_the_set(tenant):
    user = UserFactory()
    with tenant_context(tenant):
        copy_insert(Lead, new_leads(tenant, "S"))
        LeadFactory(tenant=tenant, external_id="T-1")
        with pytest.raises(IntegrityError), transaction.atomic():
            copy_insert(Lead, new_leads(tenant, "T"))  # T-1 is taken
        with pytest.raises(IntegrityError), transaction.atomic():
            copy_insert(
                Activity,
                [
                    Activity(
                        tenant=tenant, kind=ActivityKind.CALL, subject="x", owner=user, duration_minutes=2000
                    )
                ],
            )
        assert Lead.objects.count() == 4 and not Activity.objects.exists()
        with connection.cursor() as cursor:
            cursor.execute("SELECT count(*) FROM pg_temp.bulk_leads_lead")
            assert cursor.fetchone()[0] == 0
