"""Redis stopped while people work, against real processes: gunicorn and a Celery worker on the test database and
a private Redis that the test stops and starts again (empty, as a Redis without persistence comes back).

While it is down, pages and writes answer as usual (the cache answers as an empty cache, a task that cannot be
sent is kept in the outbox instead of failing the request whose write has committed, crm/outbox.py); the jobs
those writes started stay queued in the database, and once Redis is back the outbox's relay or their reapers
queue them again and they run (tests/faults/test_outbox.py follows the outbox alone)."""

from __future__ import annotations

import datetime

import pytest
import requests
from celery import Celery
from django.utils import timezone

from crm import services
from crm.tenancy import tenant_context
from imports.models import ImportJob, ImportStatus
from imports.services import STALLED_AFTER as IMPORT_STALLED_AFTER
from leads.models import Lead
from sales_ops.models import KpiRecompute, RecomputeStatus
from sales_ops.services.jobs import STALLED_AFTER as KPI_STALLED_AFTER
from tests.factories import PASSWORD
from tests.faults.conftest import database_url_of_test_database
from tests.faults.procs import WebServer, wait_until

TIMEOUT = 120.0


def _login(server: WebServer, email: str) -> requests.Session:
    browser = requests.Session()
    browser.get(f"{server.url}/login/", timeout=30)
    response = browser.post(
        f"{server.url}/login/",
        data={"username": email, "password": PASSWORD, "csrfmiddlewaretoken": browser.cookies["csrftoken"]},
        headers={"Referer": f"{server.url}/login/"},
        timeout=30,
        allow_redirects=False,
    )
    assert response.status_code == 302, response.text[:500]
    return browser


def _work(server: WebServer, browser: requests.Session, api: dict, slug: str, n: int) -> dict[str, object]:
    """What a user and a script do for a moment: read pages, create a lead (page form and API), upload an import,
    ask for a KPI recompute. Returns the status codes and the ids of what was created."""
    base, api_base = f"{server.url}/t/{slug}", f"{server.url}/api/v1/t/{slug}"
    codes = {
        "home": browser.get(f"{base}/", timeout=30).status_code,
        "leads page": browser.get(f"{base}/leads/", timeout=30).status_code,
        "leads api": requests.get(f"{api_base}/leads/", headers=api, timeout=30).status_code,
    }
    form = browser.post(
        f"{base}/leads/new/",
        data={
            "first_name": "Page",
            "last_name": f"Lead {n}",
            "email": f"page{n}@redis.test",
            "status": "new",
            "csrfmiddlewaretoken": browser.cookies["csrftoken"],
        },
        headers={"Referer": f"{base}/leads/new/"},
        timeout=30,
        allow_redirects=False,
    )
    codes["lead form"] = form.status_code
    created = requests.post(
        f"{api_base}/leads/",
        json={"last_name": f"Api {n}", "email": f"api{n}@redis.test"},
        headers=api,
        timeout=30,
    )
    codes["lead api"] = created.status_code
    upload = requests.post(
        f"{api_base}/imports/",
        data={"kind": "leads"},
        files={
            "file": (f"r{n}.csv", f"external_id,last_name\nR-{n}-1,One\nR-{n}-2,Two\n".encode(), "text/csv")
        },
        headers=api,
        timeout=30,
    )
    codes["import"] = upload.status_code
    recompute = requests.post(f"{api_base}/kpis/recompute/", headers=api, timeout=30)
    codes["recompute"] = recompute.status_code
    return {
        "codes": codes,
        "import": _json(upload).get("id"),
        "recompute": _json(recompute).get("id"),
        "errors": [r.text[:300] for r in (form, created, upload, recompute) if r.status_code >= 400],
    }


def _json(response: requests.Response) -> dict:
    return response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}


def _send(redis_url: str, task: str, *args: object) -> None:
    client = Celery(
        broker=redis_url, set_as_current=False
    )  # crm's app stays Celery's current one (eager in tests)
    client.conf.task_serializer = "json"
    client.send_task(task, args=list(args))
    client.close()


@pytest.mark.django_db(transaction=True)
def test_pages_and_writes_work_while_redis_is_down_and_queued_jobs_run_when_it_is_back(
    tenant, admin_member, private_redis, start_worker, tmp_path
):
    token = services.api_token_create(tenant=tenant, user=admin_member.user, name="faults")
    api = {"Authorization": f"Token {token}"}
    server = WebServer(
        database_url=database_url_of_test_database(), redis_url=private_redis.url, log=tmp_path / "web.log"
    ).start()
    try:
        browser = _login(server, admin_member.user.email)
        up = _work(server, browser, api, tenant.slug, 1)
        assert set(up["codes"].values()) <= {200, 201, 202, 302}, up

        private_redis.stop()
        down = [_work(server, browser, api, tenant.slug, n) for n in (2, 3)]
        for during in down:
            assert during["codes"] == {  # no 5xx, and the same answers as with Redis up
                "home": 200,
                "leads page": 200,
                "leads api": 200,
                "lead form": 302,
                "lead api": 201,
                "import": 201,
                "recompute": 202,
            }, during
        log = server.log.read_text()
        assert "kept in the outbox until the broker is back" in log
        assert "cache unavailable (Redis)" in log
        with tenant_context(tenant):
            # Every write of the outage committed; its jobs wait in the database.
            assert (
                Lead.objects.filter(
                    email__in=["page2@redis.test", "page3@redis.test", "api2@redis.test", "api3@redis.test"]
                ).count()
                == 4
            )
            waiting_imports = [during["import"] for during in down]
            waiting_recomputes = [during["recompute"] for during in down]
            assert set(ImportJob.objects.filter(pk__in=waiting_imports).values_list("status", flat=True)) == {
                ImportStatus.QUEUED
            }
            assert set(
                KpiRecompute.objects.filter(pk__in=waiting_recomputes).values_list("status", flat=True)
            ) == {RecomputeStatus.QUEUED}

        private_redis.start()  # empty: the messages sent before the outage are gone too
        start_worker()
        back = _work(server, browser, api, tenant.slug, 4)
        assert set(back["codes"].values()) <= {200, 201, 202, 302}, back
        # The reapers run every few minutes (beat); a job is queued again once it has not moved for STALLED_AFTER.
        # That time passes for the jobs of the outage, and for those queued just before it, whose messages no
        # worker had taken yet: a Redis without persistence lost them.
        before_outage = [up["import"]], [up["recompute"]]
        with tenant_context(tenant):
            ImportJob.objects.filter(pk__in=waiting_imports + before_outage[0]).update(
                updated_at=timezone.now() - IMPORT_STALLED_AFTER - datetime.timedelta(seconds=1)
            )
            KpiRecompute.objects.filter(pk__in=waiting_recomputes + before_outage[1]).update(
                updated_at=timezone.now() - KPI_STALLED_AFTER - datetime.timedelta(seconds=1)
            )
        _send(private_redis.url, "imports.tasks.resume_stalled_import_jobs", tenant.pk)
        _send(private_redis.url, "sales_ops.tasks.resume_stalled_recomputes", tenant.pk)

        def all_done() -> bool:
            with tenant_context(tenant):
                imports = set(ImportJob.objects.values_list("status", flat=True))
                recomputes = set(KpiRecompute.objects.values_list("status", flat=True))
            return imports == {ImportStatus.DONE} and recomputes == {RecomputeStatus.DONE}

        wait_until(all_done, timeout=TIMEOUT, what="the jobs of the outage to run", interval=0.5)
        with tenant_context(tenant):
            for n in (1, 2, 3):
                assert Lead.objects.filter(external_id__in=[f"R-{n}-1", f"R-{n}-2"]).count() == 2
    finally:
        server.stop()
