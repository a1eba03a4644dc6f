"""A small, deterministic sales team for the dashboard tests and the browser journey: teams East (manager, rep1)
and West (rep2), ops and cs people, inbound and incentive leads, open/won/lost deals with forecast categories,
activities and quotas, in this month and the previous one (the tenant's today), then one full recompute.

`scale` multiplies the records (the query-count tests compare two sizes)."""

from __future__ import annotations

import datetime
from decimal import Decimal

from accounts.models import ActivityKind, ForecastCategory, Stage, StageKind
from crm.dates import tenant_now
from crm.models import Role
from crm.tenancy import tenant_context
from leads.models import LeadStatus, SourceKind
from sales_ops.services.engine import kpi_recompute
from tests.factories import (
    ActivityFactory,
    CampaignFactory,
    LeadFactory,
    LeadSourceFactory,
    MembershipFactory,
    OpportunityFactory,
    QuotaFactory,
    TeamFactory,
    UserFactory,
)


def _first_of_month(day: datetime.date) -> datetime.date:
    return day.replace(day=1)


def seed_people(tenant, domain: str = "dash.test") -> dict:  # type: ignore[no-untyped-def]
    east = TeamFactory(tenant=tenant, name="East")
    west = TeamFactory(tenant=tenant, name="West")

    def make(name: str, role: str, team, full_name: str):  # type: ignore[no-untyped-def]
        user = UserFactory(email=f"{name}@{domain}", full_name=full_name)
        return MembershipFactory(tenant=tenant, user=user, role=role, team=team)

    return {
        "east": east,
        "west": west,
        "manager": make("manager", Role.SALES_MANAGER, east, "Mia Manager"),
        "rep1": make("rep1", Role.SALES_REP, east, "Rita Rep"),
        "rep2": make("rep2", Role.SALES_REP, west, "Wes West"),
        "ops": make("ops", Role.OPS, None, "Olga Ops"),
        "cs": make("cs", Role.CS, None, "Cora CS"),
    }


def seed_records(tenant, people: dict, *, scale: int = 1, recompute: bool = True) -> dict:  # type: ignore[no-untyped-def]
    now = tenant_now(tenant)
    # A fixed hour of the 5th of this month and of the previous one (today may be the 1st: then "this month"
    # records sit a few hours ahead, which the engine still counts in this month).
    this_month = now.replace(day=min(now.day, 5), hour=9, minute=0, second=0, microsecond=0)
    last_month_day = _first_of_month(now.date()) - datetime.timedelta(days=20)
    last_month = this_month.replace(year=last_month_day.year, month=last_month_day.month, day=5)
    rep1, rep2, manager = people["rep1"].user, people["rep2"].user, people["manager"].user
    web = LeadSourceFactory(tenant=tenant, name="Web", kind=SourceKind.INBOUND)
    giveaway = LeadSourceFactory(tenant=tenant, name="Giveaway", kind=SourceKind.INCENTIVE)
    spring = CampaignFactory(tenant=tenant, name="Spring", source_kind="")
    with tenant_context(tenant):
        stages = {
            kind: Stage.objects.select_related("pipeline")
            .filter(kind=kind, pipeline__is_default=True)
            .order_by("order")
            .first()
            for kind in (StageKind.OPEN, StageKind.WON, StageKind.LOST)
        }
    hour = datetime.timedelta(hours=1)
    for _copy in range(scale):
        for when in (last_month, this_month):
            # Inbound: fewer leads, better quality; incentive: more leads, most stall.
            LeadFactory(
                tenant=tenant,
                owner=rep1,
                source=web,
                campaign=spring,
                status=LeadStatus.CONVERTED,
                created_at=when,
                mql_at=when + hour,
                sql_at=when + 2 * hour,
                converted_at=when + 3 * hour,
            )
            LeadFactory(
                tenant=tenant,
                owner=rep1,
                source=web,
                status=LeadStatus.SQL,
                created_at=when,
                mql_at=when + hour,
                sql_at=when + 2 * hour,
            )
            LeadFactory(
                tenant=tenant,
                owner=rep2,
                source=web,
                status=LeadStatus.MQL,
                created_at=when,
                mql_at=when + hour,
            )
            for n in range(4):
                LeadFactory(
                    tenant=tenant,
                    owner=rep2,
                    source=giveaway,
                    campaign=spring,
                    status=LeadStatus.MQL if n == 0 else LeadStatus.NEW,
                    created_at=when,
                    mql_at=when + hour if n == 0 else None,
                )
            ActivityFactory(tenant=tenant, owner=rep1, kind=ActivityKind.CALL, occurred_at=when)
            ActivityFactory(tenant=tenant, owner=rep1, kind=ActivityKind.EMAIL, occurred_at=when + hour)
            ActivityFactory(tenant=tenant, owner=rep2, kind=ActivityKind.MEETING, occurred_at=when + hour)
        for owner, amount in ((rep1, "1000"), (rep2, "400")):
            OpportunityFactory(
                tenant=tenant,
                owner=owner,
                stage=stages[StageKind.WON],
                probability=Decimal(1),
                created_at=last_month,
                closed_at=this_month,
                amount=Decimal(amount),
            )
        OpportunityFactory(
            tenant=tenant,
            owner=rep2,
            stage=stages[StageKind.LOST],
            probability=Decimal(0),
            created_at=last_month,
            closed_at=this_month,
            amount=Decimal("300"),
            lost_reason="Price",
        )
        OpportunityFactory(
            tenant=tenant,
            owner=rep1,
            stage=stages[StageKind.WON],
            probability=Decimal(1),
            created_at=last_month - 10 * 24 * hour,
            closed_at=last_month + 24 * hour,
            amount=Decimal("800"),
        )
    close_this_month = (_first_of_month(now.date()) + datetime.timedelta(days=40)).replace(
        day=1
    ) - datetime.timedelta(days=1)
    deals = {
        "commit": OpportunityFactory(
            tenant=tenant,
            owner=rep1,
            name="Big commit",
            stage=stages[StageKind.OPEN],
            probability=Decimal("0.5"),
            forecast_category=ForecastCategory.COMMIT,
            expected_close_date=close_this_month,
            amount=Decimal("2000"),
            created_at=last_month,
        ),
        "best": OpportunityFactory(
            tenant=tenant,
            owner=rep1,
            name="Maybe deal",
            stage=stages[StageKind.OPEN],
            probability=Decimal("0.25"),
            forecast_category=ForecastCategory.PIPELINE,
            expected_close_date=close_this_month,
            amount=Decimal("1500"),
            created_at=last_month,
        ),
        "west": OpportunityFactory(
            tenant=tenant,
            owner=rep2,
            name="West deal",
            stage=stages[StageKind.OPEN],
            probability=Decimal("0.1"),
            forecast_category=ForecastCategory.BEST_CASE,
            expected_close_date=close_this_month,
            amount=Decimal("700"),
            created_at=last_month,
        ),
    }
    month = _first_of_month(now.date())
    QuotaFactory(tenant=tenant, owner=rep1, month=month, amount=Decimal("3000"))
    QuotaFactory(tenant=tenant, owner=rep2, month=month, amount=Decimal("2000"))
    QuotaFactory(tenant=tenant, team=people["west"], month=month, amount=Decimal("2500"))
    _ = manager
    if recompute:
        kpi_recompute(tenant=tenant)
    return {"web": web, "giveaway": giveaway, "spring": spring, "deals": deals, "month": month}
