from celery import shared_task

from crm.health import record_heartbeat


@shared_task(name="crm.tasks.worker_heartbeat", ignore_result=True)
def worker_heartbeat() -> None:
    """Beat sends this every 30 s; a worker running it proves the queue is consumed (see /healthz)."""
    record_heartbeat()
