"""Reads of the customer-success cards of the tenant home (lifecycle/home.py): MRR now, renewals due this month,
at-risk accounts, onboarding accounts without a touch, and the NPS trend. Each is one aggregate query (plus one
for a card's top rows), within the member's visibility, whatever the data size."""

from __future__ import annotations

import datetime
from decimal import Decimal
from typing import Any

from django.db.models import Count, Exists, Max, OuterRef, Q, QuerySet, Subquery, Sum
from django.db.models.functions import TruncDate, TruncMonth

from accounts.models import Account, Activity, LifecycleStageName
from accounts.selectors.visibility import account_queryset
from crm.dates import tenant_month_bounds, tenant_today
from crm.models import Membership, Tenant
from lifecycle.models import FeedbackKind, LifecycleChange
from lifecycle.selectors.feedback import feedback_queryset
from lifecycle.selectors.overview import month_starts
from lifecycle.selectors.subscriptions import active_on, subscription_queryset

# An onboarding account needs a touch within its first weeks: after this many days without one it shows.
ONBOARDING_TOUCH_DAYS = 14
NPS_MONTHS = 6


def mrr_now(*, tenant: Tenant, membership: Membership, today: datetime.date | None = None) -> Decimal:
    """MRR today (KPIS.md: the sum of `mrr` of subscriptions active today) over the subscriptions the member sees."""
    today = today or tenant_today(tenant)
    total = (
        subscription_queryset(tenant=tenant, membership=membership)
        .filter(active_on(today))
        .aggregate(total=Sum("mrr"))["total"]
    )
    return total or Decimal(0)


def renewals_due_this_month(*, tenant: Tenant, membership: Membership) -> dict[str, Any]:
    """Visible terms ending this month (tenant calendar) with no successor yet: count and the MRR at stake."""
    first, next_first, _start, _end = tenant_month_bounds(tenant)
    due = (
        subscription_queryset(tenant=tenant, membership=membership)
        .filter(end_date__gte=first, end_date__lt=next_first)
        .filter(renewed=False)
        .aggregate(count=Count("pk"), mrr=Sum("mrr"))
    )
    return {"count": due["count"], "mrr": due["mrr"] or Decimal(0)}


def onboarding_untouched(
    *, tenant: Tenant, membership: Membership, today: datetime.date | None = None
) -> QuerySet[Account]:
    """Visible accounts in conversion whose onboarding began (their latest move into conversion: the first
    customer date, or the come-back) at least ONBOARDING_TOUCH_DAYS days ago, with no done activity since that
    day. Annotated with `onboarding_start`; the oldest onboarding first."""
    today = today or tenant_today(tenant)
    started = (
        LifecycleChange.objects.filter(
            tenant=tenant, account_id=OuterRef("pk"), to_stage=LifecycleStageName.CONVERSION
        )
        .order_by()
        .values("account_id")
        .annotate(last=Max("date"))
        .values("last")
    )
    touched = Activity.objects.annotate(day=TruncDate("occurred_at", tzinfo=tenant.tzinfo)).filter(
        tenant=tenant,
        account_id=OuterRef("pk"),
        done=True,
        deleted_at__isnull=True,
        day__gte=OuterRef("onboarding_start"),
    )
    return (
        account_queryset(tenant=tenant, membership=membership)
        .filter(lifecycle_stage=LifecycleStageName.CONVERSION)
        .annotate(onboarding_start=Subquery(started))
        .filter(onboarding_start__lte=today - datetime.timedelta(days=ONBOARDING_TOUCH_DAYS))
        .exclude(Exists(touched))
        .select_related("owner")
        .order_by("onboarding_start", "name", "pk")
    )


def nps_value(promoters: int, detractors: int, answers: int) -> float | None:
    """KPIS.md `nps`: 100 × (share of 9-10 − share of 0-6); None without answers."""
    if not answers:
        return None
    return round(100 * (promoters - detractors) / answers, 1)


def nps_trend(
    *, tenant: Tenant, membership: Membership, months: int = NPS_MONTHS, today: datetime.date | None = None
) -> list[dict[str, Any]]:
    """NPS of each of the last `months` months (tenant calendar; oldest first) over the visible accounts'
    feedback of kind nps received in the month: {"month", "answers", "nps"} (nps None without answers)."""
    firsts = month_starts(tenant=tenant, months=months, today=today)
    tz = tenant.tzinfo
    since = datetime.datetime.combine(firsts[0], datetime.time.min, tzinfo=tz)
    rows = {
        row["month"]: row
        for row in feedback_queryset(tenant=tenant, membership=membership)
        .filter(kind=FeedbackKind.NPS, received_at__gte=since)
        .order_by()
        .annotate(month=TruncMonth("received_at", tzinfo=tz))
        .values("month")
        .annotate(
            answers=Count("pk"),
            promoters=Count("pk", filter=Q(score__gte=9)),
            detractors=Count("pk", filter=Q(score__lte=6)),
        )
    }
    by_day = {
        month.date() if isinstance(month, datetime.datetime) else month: row for month, row in rows.items()
    }
    trend = []
    for first in firsts:
        row = by_day.get(first)
        answers = row["answers"] if row else 0
        trend.append(
            {
                "month": first,
                "answers": answers,
                "nps": nps_value(row["promoters"], row["detractors"], answers) if row else None,
            }
        )
    return trend
