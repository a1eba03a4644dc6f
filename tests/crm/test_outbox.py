"""The task outbox (crm/outbox.py): a tenant task the broker refuses is kept in PostgreSQL, in the caller's
transaction when there is one, one row per distinct call, under row-level security; the relay sends the rows once
the broker takes messages again and deletes what it sent. The broker is the boundary faked here (a send raises
kombu's OperationalError while it is "down", and is recorded while it is "up"); the real-process proof is
tests/faults/test_redis_down.py."""

from __future__ import annotations

import logging

import kombu.exceptions
import pytest
from celery.app.task import Task
from django.db import connection, transaction

from crm import outbox
from crm.models import OutboxMessage
from crm.tasks import relay_outbox
from crm.tenancy import tenant_context
from sales_ops.services import triggers
from sales_ops.tasks import recompute_kpis

pytestmark = pytest.mark.django_db


class FakeBroker:
    def __init__(self) -> None:
        self.up = False
        self.sent: list[tuple[str, list, dict, dict]] = []

    def apply_async(self, task: Task, args=None, kwargs=None, **options):  # type: ignore[no-untyped-def]
        if not self.up:
            raise kombu.exceptions.OperationalError(
                "Error 111 connecting to 127.0.0.1:6379. Connection refused."
            )
        self.sent.append((task.name, list(args or ()), dict(kwargs or {}), options))
        if task.name == outbox.RELAY_TASK:  # a worker would run it: the test runs it in place
            task.run()
        return None


@pytest.fixture
def broker(monkeypatch):
    fake = FakeBroker()
    monkeypatch.setattr(
        Task,
        "apply_async",
        lambda task, args=None, kwargs=None, **options: fake.apply_async(task, args, kwargs, **options),
    )
    outbox.stored_since_last_relay()  # nothing left over from another test
    yield fake
    outbox.stored_since_last_relay()


def _rows(tenant) -> list[tuple[str, list, dict]]:
    with tenant_context(tenant):
        return list(OutboxMessage.objects.order_by("id").values_list("task", "args", "kwargs"))


def test_a_refused_tenant_task_is_kept_once_and_sent_when_the_broker_is_back(tenant, broker):
    for _ in range(3):  # three writes asked for the same recompute during the outage
        assert recompute_kpis.delay(tenant.pk) is None
    recompute_kpis.delay(tenant.pk, 7)
    assert _rows(tenant) == [
        ("sales_ops.tasks.recompute_kpis", [tenant.pk], {}),
        ("sales_ops.tasks.recompute_kpis", [tenant.pk, 7], {}),
    ]
    assert broker.sent == []

    broker.up = True
    recompute_kpis.delay(tenant.pk, 8)  # the next send that works queues the relay, which sends the rows
    assert [(name, args) for name, args, _kwargs, _options in broker.sent] == [
        ("sales_ops.tasks.recompute_kpis", [tenant.pk, 8]),
        (outbox.RELAY_TASK, []),
        ("sales_ops.tasks.recompute_kpis", [tenant.pk]),
        ("sales_ops.tasks.recompute_kpis", [tenant.pk, 7]),
    ]
    assert _rows(tenant) == []
    # Once relayed, the next sends do not queue the relay again.
    recompute_kpis.delay(tenant.pk, 9)
    assert [name for name, *_ in broker.sent].count(outbox.RELAY_TASK) == 1


def test_a_send_inside_the_changes_transaction_is_kept_with_it(tenant, broker):
    with pytest.raises(RuntimeError), transaction.atomic():
        recompute_kpis.delay(tenant.pk)
        assert len(_rows(tenant)) == 1  # written in the transaction ...
        raise RuntimeError("the change fails")
    assert (
        _rows(tenant) == []
    )  # ... and rolled back with the change: no work for a change that did not happen


def test_the_countdown_is_kept(tenant, broker):
    recompute_kpis.apply_async((tenant.pk,), countdown=120)
    broker.up = True
    relay_outbox.run()
    ((_name, _args, _kwargs, options),) = broker.sent
    assert 100 < options["countdown"] <= 120
    recompute_kpis.apply_async((tenant.pk, 1), countdown=0)
    broker.up = False
    recompute_kpis.apply_async((tenant.pk, 2), countdown=0)
    broker.up = True
    relay_outbox.run()
    assert "countdown" not in broker.sent[-1][3]  # due already: sent at once


def test_a_task_without_a_tenant_is_logged_not_kept(tenant, broker, caplog):
    with caplog.at_level(logging.ERROR, logger="crm.celery"):
        relay_outbox.delay()
    assert "not queued, the broker is unavailable" in caplog.text
    assert _rows(tenant) == []


def test_the_relay_keeps_what_the_broker_refuses_and_counts_the_attempt(tenant, broker):
    recompute_kpis.delay(tenant.pk)
    assert relay_outbox.run() == 0  # still down
    with tenant_context(tenant):
        assert list(OutboxMessage.objects.values_list("attempts", flat=True)) == [1]
    broker.up = True
    assert relay_outbox.run() == 1
    assert relay_outbox.run() == 0  # sent once: the row is gone


def test_outbox_rows_are_fenced_by_row_level_security(tenant, other_tenant, broker):
    recompute_kpis.delay(tenant.pk)
    recompute_kpis.delay(other_tenant.pk)
    with tenant_context(other_tenant):
        assert list(OutboxMessage.objects.values_list("args", flat=True)) == [[other_tenant.pk]]
        with connection.cursor() as cursor:  # raw SQL too: only the active tenant's rows
            cursor.execute("SELECT tenant_id FROM crm_outboxmessage")
            assert cursor.fetchall() == [(other_tenant.pk,)]
    with transaction.atomic(), connection.cursor() as cursor:  # no tenant set: nothing
        cursor.execute("SELECT count(*) FROM crm_outboxmessage")
        assert cursor.fetchone() == (0,)
    broker.up = True
    assert relay_outbox.run() == 2  # the relay visits each tenant in its own context


def test_the_debounced_kpi_recompute_is_kept_while_redis_is_down(tenant, broker, settings):
    """With Redis down the debounce key cannot be added (the cache answers False): the recompute is sent anyway,
    and the outbox keeps one row for the tenant however many changes asked."""
    settings.CACHES = {
        "default": {
            "BACKEND": "crm.cache.ResilientRedisCache",
            "LOCATION": "redis://127.0.0.1:9/0",  # nothing listens on the discard port
            "OPTIONS": {"socket_connect_timeout": 0.5},
        }
    }
    assert triggers.queue_recompute(tenant_id=tenant.pk) is True
    assert triggers.queue_recompute(tenant_id=tenant.pk) is True
    assert _rows(tenant) == [("sales_ops.tasks.recompute_kpis", [tenant.pk], {})]
