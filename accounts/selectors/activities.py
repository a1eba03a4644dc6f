"""Reads of activities and tasks: one activity, the list, and the task buckets of the task page (overdue, today,
upcoming, no date) in the tenant's time zone."""

from __future__ import annotations

import datetime
from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.utils import timezone

from accounts.filters.activities import ActivityFilterSet
from accounts.models import Activity, ActivityKind
from accounts.selectors.visibility import activity_queryset
from crm.filtering import filterset_rows
from crm.models import Membership, Tenant


def activity_get(*, tenant: Tenant, membership: Membership, pk: int) -> Activity:
    return (
        activity_queryset(tenant=tenant, membership=membership)
        .select_related("owner", "account", "contact", "opportunity", "lead")
        .get(pk=pk)
    )


def activity_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[Activity]:
    qs = activity_queryset(tenant=tenant, membership=membership).select_related(
        "owner", "account", "contact", "opportunity", "lead"
    )
    if filters:
        filterset = ActivityFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset_rows(filterset)
    return qs


@dataclass
class TaskBuckets:
    overdue: list[Activity]
    today: list[Activity]
    upcoming: list[Activity]
    no_date: list[Activity]
    later: list[Activity] = field(default_factory=list)  # due after the 30 upcoming days


def _local_day_bounds(tenant: Tenant, now: datetime.datetime | None = None) -> tuple:
    now = now or timezone.now()
    local = timezone.localtime(now, tenant.tzinfo)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def task_buckets(
    *, tenant: Tenant, membership: Membership, now: datetime.datetime | None = None, limit: int = 100
) -> TaskBuckets:
    """The member's open tasks: overdue (due before today, tenant time zone), today, upcoming (next 30 days),
    later and undated. Four bounded queries on the (tenant, owner, done, due_at) index (upcoming and later are
    one query, split at the 30 days: together at most `limit`)."""
    start, end = _local_day_bounds(tenant, now)
    base = Activity.objects.filter(
        tenant=tenant, owner_id=membership.user_id, kind=ActivityKind.TASK, done=False, deleted_at=None
    ).select_related("account", "contact", "opportunity", "lead")
    horizon = end + datetime.timedelta(days=30)
    ahead = list(base.filter(due_at__gte=end).order_by("due_at", "pk")[:limit])
    return TaskBuckets(
        overdue=list(base.filter(due_at__lt=start).order_by("due_at", "pk")[:limit]),
        today=list(base.filter(due_at__gte=start, due_at__lt=end).order_by("due_at", "pk")[:limit]),
        upcoming=[task for task in ahead if task.due_at < horizon],
        no_date=list(base.filter(due_at=None).order_by("-created_at", "-pk")[:limit]),
        later=[task for task in ahead if task.due_at >= horizon],
    )


# The task page's buckets, in page order: key -> TaskBuckets attribute.
TASK_BUCKETS = {
    "overdue": "overdue",
    "today": "today",
    "upcoming": "upcoming",
    "later": "later",
    "none": "no_date",
}
UPCOMING_DAYS = 30


def _open_tasks(tenant: Tenant, membership: Membership) -> QuerySet[Activity]:
    return Activity.objects.filter(
        tenant=tenant, owner_id=membership.user_id, kind=ActivityKind.TASK, done=False, deleted_at=None
    )


def _bucket_filters(tenant: Tenant, now: datetime.datetime | None) -> dict[str, Q]:
    start, end = _local_day_bounds(tenant, now)
    horizon = end + datetime.timedelta(days=UPCOMING_DAYS)
    return {
        "overdue": Q(due_at__lt=start),
        "today": Q(due_at__gte=start, due_at__lt=end),
        "upcoming": Q(due_at__gte=end, due_at__lt=horizon),
        "later": Q(due_at__gte=horizon),
        "none": Q(due_at=None),
    }


def task_bucket_counts(
    *, tenant: Tenant, membership: Membership, now: datetime.datetime | None = None
) -> dict[str, int]:
    """How many open tasks the member has in each bucket (tenant time zone): one aggregate query."""
    filters = _bucket_filters(tenant, now)
    return _open_tasks(tenant, membership).aggregate(
        **{key: Count("pk", filter=condition) for key, condition in filters.items()}
    )


def task_bucket_page(
    *,
    tenant: Tenant,
    membership: Membership,
    bucket: str,
    offset: int = 0,
    limit: int = 20,
    now: datetime.datetime | None = None,
) -> list[Activity]:
    """One page of a bucket (`bucket` a key of TASK_BUCKETS), in due order (undated: newest first); one query on
    the (tenant, owner, done, due_at) index."""
    order = ("-created_at", "-pk") if bucket == "none" else ("due_at", "pk")
    return list(
        _open_tasks(tenant, membership)
        .filter(_bucket_filters(tenant, now)[bucket])
        .select_related("account", "contact", "opportunity", "lead")
        .order_by(*order)[offset : offset + limit]
    )
