"""Demo data of the imports area: the ops member migrated a batch of leads from the company's previous CRM a few
months ago, keeping their historical timestamps; three rows of that file were refused and are listed on the
job's page with their row, column and reason, as a real migration looks.

Runs last (INSTALLED_APPS order), through the real services: the job is created by import_job_create and run by
import_job_run, the same code a Celery worker runs.
"""

from __future__ import annotations

import csv
import datetime
import io
import random

from django.utils import timezone, translation

from crm.models import Tenant
from imports.models import ImportJob
from imports.registry import get_kind
from imports.services import import_job_create, import_job_run

ROWS = 36
STATUSES = ["new", "working", "working", "mql", "sql", "disqualified"]
NAMES = {
    "zh": (
        ["王", "李", "张", "刘", "陈", "杨", "赵", "周"],
        ["晨", "洁", "磊", "婷", "强", "芳", "浩", "静"],
    ),
    "en": (["Becker", "Fischer", "Weber", "Wagner", "Koch", "Richter", "Klein", "Wolf"], ["Anna", "Jonas"]),
}
COMPANIES = {
    "zh": ["华东精密机械有限公司", "苏州智造科技有限公司", "宁波港联物流有限公司", "杭州云启软件有限公司"],
    "en": ["Rhein Präzision GmbH", "Nordlicht Logistik AG", "Alpen Software GmbH", "Hansa Maschinenbau KG"],
}


def _lead_columns() -> list[str]:
    kind = get_kind("leads")
    if kind is None:  # the leads app registers it in ready(), before any demo runs
        raise LookupError("the leads import kind is not registered")
    return list(kind.columns)


def _csv(tenant: Tenant, members: dict, rng: random.Random) -> bytes:
    lang = "zh" if tenant.default_locale.startswith("zh") else "en"
    surnames, given = NAMES[lang]
    owners = [members[key].user.email for key in ("rep", "rep2") if key in members]
    now = timezone.now()
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow(_lead_columns())
    for number in range(ROWS):
        created = now - datetime.timedelta(days=400 - number * 7, hours=rng.randint(0, 9))
        status = STATUSES[number % len(STATUSES)]
        reached_mql = status in {"mql", "sql"}
        writer.writerow(
            [
                f"legacy-{number + 1:04d}",
                rng.choice(given),
                rng.choice(surnames),
                f"legacy{number + 1}@{tenant.slug}-customer.example",
                "",
                rng.choice(COMPANIES[lang]),
                "",
                "Legacy CRM",
                "inbound",
                "",
                status,
                owners[number % len(owners)] if owners else "",
                "",
                "",
                created.isoformat(),
                (created + datetime.timedelta(days=9)).isoformat() if reached_mql else "",
                (created + datetime.timedelta(days=21)).isoformat() if status == "sql" else "",
                "",
                (created + datetime.timedelta(days=5)).isoformat() if status == "disqualified" else "",
            ]
        )
    # What a real migration file carries: a status the CRM does not know, a broken date, a departed colleague.
    columns = _lead_columns()
    for external_id, column, value in (
        ("legacy-bad-1", "status", "hot"),
        ("legacy-bad-2", "created_at", "2025-13-40"),
        ("legacy-bad-3", "owner_email", f"left-the-company@{tenant.slug}.test"),
    ):
        row = dict.fromkeys(columns, "")
        row.update(external_id=external_id, last_name="Legacy", status="new", created_at=now.isoformat())
        row[column] = value
        writer.writerow([row[name] for name in columns])
    return out.getvalue().encode("utf-8")


def seed(*, tenant: Tenant, members: dict, rng: random.Random) -> None:
    ops = members.get("ops") or members["admin"]
    # Uploaded from the ops member's pages: its row errors read in their language, as a real job's do.
    with translation.override(ops.user.language or tenant.default_locale):
        job = import_job_create(
            tenant=tenant,
            actor=ops.user,
            membership=ops,
            kind="leads",
            file_name="legacy-crm-leads.csv",
            content=_csv(tenant, members, rng),
        )
    import_job_run(tenant=tenant, job_id=job.pk)
    # The migration happened a while ago (the leads keep their own, older timestamps).
    ran_at = timezone.now() - datetime.timedelta(days=75)
    ImportJob.objects.filter(tenant=tenant, pk=job.pk).update(
        created_at=ran_at, started_at=ran_at, finished_at=ran_at + datetime.timedelta(seconds=4)
    )
