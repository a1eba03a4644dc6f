"""Redis stopped while people work, and the work their changes trigger: against real processes (gunicorn and a
Celery worker on the test database, a private Redis the test stops and starts again, empty).

While Redis is down, writes through the API answer as usual and the tasks they trigger (the debounced KPI
recompute of the tenant, the stage recompute of the account whose deal was won) cannot be sent: they are kept in
the outbox table (crm/outbox.py), one row per distinct call however many writes asked for it. Once Redis is back
the relay (beat's entry, sent here as beat sends it) delivers them to the worker: the KPI snapshot and the account's
lifecycle stage are computed, each task ran once, and the outbox is empty."""

from __future__ import annotations

import pytest
import requests
from celery import Celery

from accounts.models import Account, Stage
from crm import services
from crm.models import OutboxMessage
from crm.tenancy import tenant_context
from lifecycle.models import LifecycleChange
from sales_ops.models import KpiSnapshot, KpiSnapshotSet
from tests.faults.conftest import database_url_of_test_database
from tests.faults.procs import WebServer, wait_until

TIMEOUT = 120.0


def _send(redis_url: str, task: str, *args: object) -> None:
    client = Celery(
        broker=redis_url, set_as_current=False
    )  # crm's app stays the current one (eager in tests)
    client.conf.task_serializer = "json"
    client.send_task(task, args=list(args))
    client.close()


def _ran(log: str, task: str) -> int:
    """How many runs of `task` the worker's log reports as finished."""
    return sum(1 for line in log.splitlines() if f"Task {task}[" in line and " succeeded in " in line)


@pytest.mark.django_db(transaction=True)
def test_work_triggered_while_redis_is_down_runs_once_when_it_is_back(
    tenant, admin_member, private_redis, start_worker, tmp_path
):
    token = services.api_token_create(tenant=tenant, user=admin_member.user, name="faults")
    api = {"Authorization": f"Token {token}"}
    base = f"/api/v1/t/{tenant.slug}"
    server = WebServer(
        database_url=database_url_of_test_database(),
        redis_url=private_redis.url,
        log=tmp_path / "web.log",
        KPI_RECOMPUTE_ON_CHANGE="1",
        KPI_RECOMPUTE_DEBOUNCE_SECONDS="1",
    ).start()
    try:
        with tenant_context(tenant):
            won = Stage.objects.get(pipeline__is_default=True, name="Closed won").pk
        private_redis.stop()

        codes = []
        for n in range(3):  # three writes, each asking for the tenant's KPI recompute
            created = requests.post(
                f"{server.url}{base}/leads/",
                json={"last_name": f"Outage {n}", "email": f"outage{n}@redis.test"},
                headers=api,
                timeout=30,
            )
            codes.append(created.status_code)
        account = requests.post(
            f"{server.url}{base}/accounts/", json={"name": "Outage Ltd"}, headers=api, timeout=30
        )
        assert account.status_code == 201, account.text[:300]
        account_id = account.json()["id"]
        deal = requests.post(  # won: the account's lifecycle stage must be recomputed
            f"{server.url}{base}/opportunities/",
            json={"account": account_id, "name": "First order", "amount": "1200", "stage": won},
            headers=api,
            timeout=30,
        )
        codes.append(deal.status_code)
        assert codes == [201, 201, 201, 201], deal.text[:300]
        assert "kept in the outbox until the broker is back" in server.log.read_text()

        with tenant_context(tenant):
            waiting = sorted(OutboxMessage.objects.values_list("task", "args"))
            assert ("sales_ops.tasks.recompute_kpis", [tenant.pk]) in waiting
            assert ("lifecycle.tasks.recompute_lifecycle", [tenant.pk, [account_id]]) in waiting
            # One row per distinct call: the three leads and the deal asked for the same KPI recompute.
            assert [task for task, _args in waiting].count("sales_ops.tasks.recompute_kpis") == 1
            assert not KpiSnapshotSet.objects.exists()
            assert not LifecycleChange.objects.filter(account_id=account_id).exists()

        private_redis.start()  # empty: nothing of the outage is in Redis, only in the outbox
        worker = start_worker()
        _send(private_redis.url, "crm.tasks.relay_outbox")  # as beat sends it

        def done() -> bool:
            with tenant_context(tenant):
                return (
                    not OutboxMessage.objects.exists()
                    and KpiSnapshotSet.objects.filter(is_current=True).exists()
                    and LifecycleChange.objects.filter(account_id=account_id).exists()
                )

        wait_until(done, timeout=TIMEOUT, what="the outbox's tasks to run", interval=0.5)
        wait_until(
            lambda: _ran(worker.log.read_text(), "lifecycle.tasks.recompute_lifecycle") >= 1,
            timeout=TIMEOUT,
            what="the worker's log",
        )
        log = worker.log.read_text()
        # Each kept task ran once: one KPI recompute for four writes, one stage recompute for the won deal.
        assert _ran(log, "sales_ops.tasks.recompute_kpis") == 1, log[-3000:]
        assert _ran(log, "lifecycle.tasks.recompute_lifecycle") == 1, log[-3000:]
        assert _ran(log, "crm.tasks.relay_outbox") == 1, log[-3000:]
        with tenant_context(tenant):
            assert KpiSnapshotSet.objects.count() == 1
            current = KpiSnapshot.objects.filter(snapshot_set__is_current=True)
            assert current.filter(metric="leads_created").exists()
            changes = list(
                LifecycleChange.objects.filter(account_id=account_id).values_list("date", "to_stage")
            )
            assert len(changes) == len(set(changes))  # no stage change recorded twice
            assert Account.objects.get(pk=account_id)
    finally:
        server.stop()
