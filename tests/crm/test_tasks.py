"""crm.tasks.tenant_task: the one place that checks the tenant is still active, opens its context and retries
transient errors (bounded, with backoff), never validation errors. Run through Celery's eager `apply`: a retry
runs again at once (no countdown, no sleeping); with eager errors not propagated, the retries run to their end
and the result carries the last error."""

from __future__ import annotations

import logging
from unittest import mock

import kombu.exceptions
import pytest
from django.core.exceptions import ValidationError
from django.db import OperationalError

from crm.models import Tenant
from crm.tasks import MAX_RETRIES, tenant_task
from crm.tenancy import current_tenant_or_none

pytestmark = pytest.mark.django_db

body = mock.Mock()


@tenant_task(name="tests.crm.test_tasks.probe", skipped="skipped")
def probe(tenant: Tenant, value: int) -> object:
    return body(tenant, value, current_tenant_or_none())


@pytest.fixture(autouse=True)
def fresh_body(monkeypatch):
    # Propagating eager errors (the tests' setting) would raise the first Retry instead of running it.
    monkeypatch.setitem(probe.app.conf, "task_eager_propagates", False)
    body.reset_mock(return_value=True, side_effect=True)
    body.return_value = "done"
    yield


def test_runs_in_the_tenant_context(tenant):
    assert probe.apply(args=(tenant.pk, 7)).get() == "done"
    (called_tenant, value, active), _kwargs = body.call_args
    assert (called_tenant.pk, value, active.pk) == (tenant.pk, 7, tenant.pk)
    assert probe.acks_late is True


def test_inactive_or_missing_tenant_is_skipped_quietly(tenant, caplog):
    Tenant.objects.filter(pk=tenant.pk).update(is_active=False)
    with caplog.at_level(logging.INFO, logger="crm.tasks"):
        assert probe.apply(args=(tenant.pk, 1)).get() == "skipped"
        assert probe(0, 1) == "skipped"  # called directly, as the tests of the apps do
    assert not body.called
    assert f"tenant {tenant.pk} is inactive or gone" in caplog.text


@pytest.mark.parametrize(
    "error",
    [OperationalError("server closed the connection"), kombu.exceptions.OperationalError("broker down")],
)
def test_transient_errors_are_retried_a_bounded_number_of_times(tenant, error):
    body.side_effect = error
    with pytest.raises(type(error)):
        probe.apply(args=(tenant.pk, 1)).get()
    assert body.call_count == MAX_RETRIES + 1


def test_a_transient_error_that_goes_away_succeeds_on_retry(tenant):
    body.side_effect = [OperationalError("deadlock detected"), "done"]
    assert probe.apply(args=(tenant.pk, 1)).get() == "done"
    assert body.call_count == 2


def test_validation_errors_are_not_retried(tenant):
    body.side_effect = ValidationError("bad row")
    with pytest.raises(ValidationError):
        probe.apply(args=(tenant.pk, 1)).get()
    assert body.call_count == 1


def test_retries_back_off_exponentially():
    assert probe.retry_backoff and probe.max_retries == MAX_RETRIES
    assert ValidationError not in probe.autoretry_for


def test_every_tenant_task_of_the_apps_uses_the_decorator():
    """Every task that takes a tenant id is a tenant_task (acks late, retries transient errors)."""
    from celery import current_app

    current_app.loader.import_default_modules()
    tenant_tasks = {
        name: task
        for name, task in current_app.tasks.items()
        if name.split(".")[0] in {"accounts", "leads", "imports"} and not name.endswith("_all_tenants")
    }
    assert {
        "accounts.tasks.opportunities_reprice",
        "accounts.tasks.opportunities_reprice_open",
        "leads.tasks.return_stale_leads_to_pool",
        "leads.tasks.rescore_lead",
        "leads.tasks_ops.rescore_leads",
        "imports.tasks.run_import_job",
    } <= set(tenant_tasks)
    for name, task in tenant_tasks.items():
        assert task.acks_late and task.autoretry_for, name
