"""Recompute jobs requested by a person ("Recompute now", the API)."""

from __future__ import annotations

from functools import partial

from django.db import transaction

from crm.models import Tenant, User
from sales_ops.models import KpiRecompute


@transaction.atomic
def kpi_recompute_request(*, tenant: Tenant, actor: User | None) -> KpiRecompute:
    """Create a queued recompute job. Side effect: its task is queued after commit."""
    from sales_ops.tasks import recompute_kpis

    job = KpiRecompute.objects.create(tenant=tenant, requested_by=actor)
    transaction.on_commit(partial(recompute_kpis.delay, tenant.pk, job.pk))
    return job
