"""The tenant home: what each role should look at first. Reads only through the apps' selectors, in a bounded
number of aggregate queries whatever the data size."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q
from django.utils import timezone

from crm.models import Membership, Role, Tenant

SALES_ROLES = {Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.OPS}
CUSTOMER_ROLES = {Role.ADMIN, Role.CS, Role.SALES_MANAGER, Role.OPS}


@dataclass
class HomeData:
    tasks: Any = None
    open_deals: dict[str, Any] | None = None
    closing_this_month: dict[str, Any] | None = None
    won_this_month: dict[str, Any] | None = None
    stage_chart: list[dict[str, Any]] = field(default_factory=list)
    lead_counts: dict[str, int] | None = None
    lifecycle_counts: list[dict[str, Any]] | None = None


def _month_bounds(tenant: Tenant) -> tuple[date, date, Any, Any]:
    local_now = timezone.localtime(timezone.now(), tenant.tzinfo)
    first = local_now.date().replace(day=1)
    next_first = (first.replace(day=28) + timedelta(days=4)).replace(day=1)
    start = local_now.replace(
        year=first.year, month=first.month, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    end = start.replace(year=next_first.year, month=next_first.month)
    return first, next_first, start, end


def home_data(*, tenant: Tenant, membership: Membership) -> HomeData:
    from accounts.models import StageKind
    from accounts.selectors import deals as deal_selectors
    from accounts.selectors import records as record_selectors

    data = HomeData()
    data.tasks = record_selectors.task_buckets(tenant=tenant, membership=membership, limit=6)
    first, next_first, start, end = _month_bounds(tenant)

    if membership.role in SALES_ROLES:
        deals = deal_selectors.opportunity_base(tenant=tenant, membership=membership)
        open_deals = deals.filter(stage__kind=StageKind.OPEN)
        data.open_deals = deal_selectors.opportunity_totals(open_deals)
        data.closing_this_month = deal_selectors.opportunity_totals(
            open_deals.filter(expected_close_date__gte=first, expected_close_date__lt=next_first)
        )
        data.won_this_month = deal_selectors.opportunity_totals(
            deals.filter(stage__kind=StageKind.WON, closed_at__gte=start, closed_at__lt=end)
        )
        pipeline = deal_selectors.pipeline_choices(tenant=tenant).filter(is_default=True).first()
        if pipeline is not None:
            totals = deal_selectors.stage_totals(deals=open_deals.filter(pipeline=pipeline))
            stages = deal_selectors.pipeline_stages(tenant=tenant, pipeline_id=pipeline.pk).filter(
                kind=StageKind.OPEN
            )
            data.stage_chart = [
                {
                    "label": stage.label,
                    "amount": float(totals.get(stage.pk, {}).get("amount", Decimal(0))),
                    "weighted": float(totals.get(stage.pk, {}).get("weighted", Decimal(0))),
                    "count": totals.get(stage.pk, {}).get("count", 0),
                }
                for stage in stages
            ]
        from leads.selectors import leads as lead_selectors

        mine = lead_selectors.lead_queryset(tenant=tenant, membership=membership).filter(
            owner_id=membership.user_id
        )
        data.lead_counts = mine.aggregate(
            new=Count("pk", filter=Q(status="new")),
            working=Count("pk", filter=Q(status="working")),
            qualified=Count("pk", filter=Q(status__in=["mql", "sql"])),
        )

    if membership.role in CUSTOMER_ROLES:
        accounts = record_selectors.account_queryset(tenant=tenant, membership=membership)
        rows = {
            row["lifecycle_stage"]: row["n"]
            for row in accounts.order_by().values("lifecycle_stage").annotate(n=Count("pk"))
        }
        from accounts.models import LifecycleStageName

        data.lifecycle_counts = [
            {"key": key, "label": label, "count": rows.get(key, 0)}
            for key, label in LifecycleStageName.choices
        ]
    return data
