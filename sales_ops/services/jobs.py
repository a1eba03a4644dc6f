"""Recompute jobs requested by a person ("Recompute now", the API), and their reaper."""

from __future__ import annotations

import datetime
import logging
from functools import partial

from django.db import transaction
from django.utils import timezone

from crm.models import Tenant, User
from crm.tenancy import tenant_context
from sales_ops.models import KpiRecompute, RecomputeStatus

logger = logging.getLogger(__name__)


@transaction.atomic
def kpi_recompute_request(*, tenant: Tenant, actor: User | None) -> KpiRecompute:
    """Create a queued recompute job. Side effect: its task is queued after commit."""
    from sales_ops.tasks import recompute_kpis

    job = KpiRecompute.objects.create(tenant=tenant, requested_by=actor)
    transaction.on_commit(partial(recompute_kpis.delay, tenant.pk, job.pk))
    return job


# A queued recompute whose message was lost (or never sent: the broker was down) is queued again after this long.
STALLED_AFTER = datetime.timedelta(minutes=5)


def kpi_recompute_jobs_resume_stalled(
    *, tenant: Tenant, now: datetime.datetime | None = None
) -> dict[str, int]:
    """The tenant's requested recomputes that no worker runs, when no recompute of the tenant runs (its lock is
    free): a running one's worker died (SIGKILL, out of memory), so it is marked failed with a message (the old
    KPI set stayed current) and a fresh recompute is queued; a queued one that has not moved for STALLED_AFTER is
    queued again. Returns {"failed": n, "requeued": n}."""
    from sales_ops.services.engine import tenant_lock
    from sales_ops.services.triggers import queue_recompute
    from sales_ops.tasks import recompute_kpis

    now = now or timezone.now()
    with tenant_context(tenant):
        waiting = KpiRecompute.objects.filter(
            tenant=tenant, status__in=[RecomputeStatus.QUEUED, RecomputeStatus.RUNNING]
        )
        if not waiting.exists():
            return {"failed": 0, "requeued": 0}
    with tenant_lock(tenant.pk) as free:
        if not free:
            return {"failed": 0, "requeued": 0}
        with tenant_context(tenant):
            # Read under the lock: a recompute that finished a moment ago is done, not dead.
            failed = KpiRecompute.objects.filter(tenant=tenant, status=RecomputeStatus.RUNNING).update(
                status=RecomputeStatus.FAILED,
                finished_at=now,
                error="The worker running this recompute stopped before it finished; a new one is queued.",
                updated_at=now,
            )
            stalled = list(
                KpiRecompute.objects.filter(
                    tenant=tenant, status=RecomputeStatus.QUEUED, updated_at__lt=now - STALLED_AFTER
                ).values_list("pk", flat=True)
            )
            KpiRecompute.objects.filter(tenant=tenant, pk__in=stalled).update(updated_at=now)
    if failed:
        logger.error("%s KPI recompute(s) of tenant %s lost their worker: marked failed", failed, tenant.pk)
        queue_recompute(tenant_id=tenant.pk)
    for pk in stalled:
        logger.warning("KPI recompute %s of tenant %s stalled in the queue: queued again", pk, tenant.pk)
        recompute_kpis.delay(tenant.pk, pk)
    return {"failed": failed, "requeued": len(stalled)}
