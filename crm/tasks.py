from celery import shared_task

from crm.health import record_heartbeat


@shared_task(name="crm.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every 30 s; a worker running it proves the queue is consumed (see /healthz)."""
    record_heartbeat()


def fan_out(task) -> int:  # type: ignore[no-untyped-def]
    """Periodic jobs fan out one task per active tenant (STYLE.md "Celery"): queue `task(tenant_id)` for each and
    return how many were queued."""
    from crm.models import Tenant

    tenant_ids = list(Tenant.objects.filter(is_active=True).values_list("pk", flat=True))
    for tenant_id in tenant_ids:
        task.delay(tenant_id)
    return len(tenant_ids)
