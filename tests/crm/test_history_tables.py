"""The history event tables (django-pghistory) carry only the indexes a query reads (crm/settings.py,
PGHISTORY_FOREIGN_KEY_FIELD): their primary key and the record an event follows, which is how
accounts.selectors.history reads them. Every other index would be written with every event and read by none."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import connection
from pghistory.models import Event

from accounts.selectors.history import history_for
from crm.tenancy import tenant_context
from tests.factories import MembershipFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


def _event_models() -> list:
    return [
        model
        for model in apps.get_models()
        if issubclass(model, Event) and not model._meta.abstract and not model._meta.proxy
    ]


def test_every_tracked_model_has_its_event_table_checked_here() -> None:
    labels = {model._meta.label for model in _event_models()}
    # The models of every app that tracks history: a new one is checked too, by the tests below.
    assert {"leads.LeadEvent", "accounts.ActivityEvent", "accounts.OpportunityEvent"} <= labels
    assert len(labels) >= 8


def test_an_event_table_indexes_its_key_and_the_record_it_follows_only() -> None:
    with connection.cursor() as cursor:
        for model in _event_models():
            constraints = connection.introspection.get_constraints(cursor, model._meta.db_table)
            indexed = sorted(
                tuple(spec["columns"])
                for spec in constraints.values()
                if spec["index"] or spec["primary_key"] or spec["unique"]
            )
            assert indexed == [("pgh_id",), ("pgh_obj_id",)], model._meta.label


def test_a_records_history_is_read_through_the_index_of_the_record_it_follows() -> None:
    membership = MembershipFactory()
    tenant = membership.tenant
    with tenant_context(tenant):
        lead = LeadFactory(tenant=tenant, owner=membership.user)
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL enable_seqscan = off")
            cursor.execute(
                "EXPLAIN SELECT * FROM leads_leadevent WHERE tenant_id = %s AND pgh_obj_id IN (%s)",
                [tenant.pk, lead.pk],
            )
            plan = "\n".join(row[0] for row in cursor.fetchall())
        assert "leads_leadevent_pgh_obj_id" in plan
        assert [entry.action for entry in history_for(tenant=tenant, obj=lead)][:1] == ["created"]
