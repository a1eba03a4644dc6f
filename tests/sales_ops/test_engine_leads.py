"""Acquisition metrics (KPIS.md "Acquisition") on a hand-made set of leads, Asia/Shanghai, fiscal year from April.

The leads (local Shanghai times):
- L1 created 2024-03-31 23:30 (March, fiscal Q4 of FY2023), first mql 2024-04-02 00:30; rep1 (East), source
  Web (inbound), campaign Spring;
- L2 created 2024-04-01 00:30 (UTC: still March 31), converted straight from working on 04-10 (no mql/sql stamp:
  it reached both); a won deal originated from it; rep2 (West), source Giveaway (incentive);
- L3 created 2024-04-05, mql 04-06, sql 05-02; rep1, Web;
- L4 created 2024-04-20, disqualified, no owner, no source;
- L5 created 2024-04-21 but deleted: never counts.
"""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest

from leads.models import LeadStatus, SourceKind
from sales_ops.services.engine import kpi_recompute
from tests.factories import CampaignFactory, LeadFactory, LeadSourceFactory, OpportunityFactory
from tests.sales_ops.conftest import NOW, local, snapshot, value

pytestmark = pytest.mark.django_db

D = datetime.date
THIRD = Decimal("0.3333333333")
TWO_THIRDS = Decimal("0.6666666667")


@pytest.fixture
def leads(fy_tenant, people, stages):
    web = LeadSourceFactory(tenant=fy_tenant, name="Web", kind=SourceKind.INBOUND)
    giveaway = LeadSourceFactory(tenant=fy_tenant, name="Giveaway", kind=SourceKind.INCENTIVE)
    spring = CampaignFactory(tenant=fy_tenant, name="Spring", source_kind="")
    rep1, rep2 = people["rep1"].user, people["rep2"].user
    l1 = LeadFactory(
        tenant=fy_tenant,
        owner=rep1,
        source=web,
        campaign=spring,
        status=LeadStatus.MQL,
        created_at=local(2024, 3, 31, 23, 30),
        mql_at=local(2024, 4, 2, 0, 30),
    )
    l2 = LeadFactory(
        tenant=fy_tenant,
        owner=rep2,
        source=giveaway,
        status=LeadStatus.CONVERTED,
        created_at=local(2024, 4, 1, 0, 30),
        working_at=local(2024, 4, 2),
        converted_at=local(2024, 4, 10, 10),
    )
    l3 = LeadFactory(
        tenant=fy_tenant,
        owner=rep1,
        source=web,
        status=LeadStatus.SQL,
        created_at=local(2024, 4, 5, 11),
        mql_at=local(2024, 4, 6),
        sql_at=local(2024, 5, 2),
    )
    LeadFactory(
        tenant=fy_tenant,
        status=LeadStatus.DISQUALIFIED,
        created_at=local(2024, 4, 20),
        disqualified_at=local(2024, 4, 21),
    )
    LeadFactory(tenant=fy_tenant, created_at=local(2024, 4, 21), deleted_at=local(2024, 4, 22))
    OpportunityFactory(
        tenant=fy_tenant,
        lead=l2,
        stage=stages["won"],
        owner=rep2,
        created_at=local(2024, 4, 10, 10),
        closed_at=local(2024, 5, 3),
    )
    # A lost deal from L3 does not make it a won lead.
    OpportunityFactory(
        tenant=fy_tenant,
        lead=l3,
        stage=stages["lost"],
        owner=rep1,
        created_at=local(2024, 5, 2),
        closed_at=local(2024, 5, 20),
    )
    return l1, l2, l3


def test_month_all(fy_tenant, leads):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    march, april, may = D(2024, 3, 1), D(2024, 4, 1), D(2024, 5, 1)
    assert value(rows, "leads_created", "month", march) == 1
    assert value(rows, "lead_to_mql_rate", "month", march) == 1  # L1 reached mql in April, counted by now
    assert value(rows, "lead_conversion_rate", "month", march) == 0
    assert value(rows, "lead_to_win_rate", "month", march) == 0
    assert value(rows, "leads_mql", "month", march) == 0
    assert value(rows, "mql_to_sql_rate", "month", march) is None  # no MQL in March: no denominator

    assert (
        value(rows, "leads_created", "month", april) == 3
    )  # L2 (local midnight), L3, L4; not the deleted L5
    assert value(rows, "lead_to_mql_rate", "month", april) == TWO_THIRDS  # L2 (converted from working), L3
    assert value(rows, "lead_conversion_rate", "month", april) == THIRD
    assert value(rows, "lead_to_win_rate", "month", april) == THIRD  # L2's deal is won; L3's is lost
    assert value(rows, "leads_mql", "month", april) == 3  # L1 (04-02), L2 (04-10 by converting), L3 (04-06)
    assert value(rows, "mql_to_sql_rate", "month", april) == TWO_THIRDS  # L2 and L3 reached sql

    assert value(rows, "leads_created", "month", may) == 0
    assert value(rows, "lead_to_mql_rate", "month", may) is None
    assert value(rows, "leads_mql", "month", may) == 0
    # June holds "now": present; July is in the future: no lead rows.
    assert value(rows, "leads_created", "month", D(2024, 6, 1)) == 0
    assert ("leads_created", "month", D(2024, 7, 1), "all", "") not in rows


def test_days_weeks_and_fiscal_quarters_years(fy_tenant, leads):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    # The local-midnight boundary: L1 on March 31, L2 on April 1 (both March 31 in UTC).
    assert value(rows, "leads_created", "day", D(2024, 3, 31)) == 1
    assert value(rows, "leads_created", "day", D(2024, 4, 1)) == 1
    assert value(rows, "leads_created", "day", D(2024, 4, 2)) == 0
    assert value(rows, "leads_mql", "day", D(2024, 4, 2)) == 1
    # ISO weeks start on Monday: 2024-03-25 holds Sunday 03-31; 2024-04-01 holds 04-01 and 04-05.
    assert value(rows, "leads_created", "week", D(2024, 3, 25)) == 1
    assert value(rows, "leads_created", "week", D(2024, 4, 1)) == 2
    # Fiscal year from April: quarters start Jan/Apr/Jul/Oct, years on April 1.
    assert value(rows, "leads_created", "quarter", D(2024, 1, 1)) == 1
    assert value(rows, "leads_created", "quarter", D(2024, 4, 1)) == 3
    assert value(rows, "leads_mql", "quarter", D(2024, 4, 1)) == 3
    assert value(rows, "leads_created", "year", D(2023, 4, 1)) == 1
    assert value(rows, "leads_created", "year", D(2024, 4, 1)) == 3
    assert value(rows, "lead_to_win_rate", "year", D(2024, 4, 1)) == THIRD
    assert ("leads_created", "quarter", D(2024, 3, 1), "all", "") not in rows


def test_dimensions(fy_tenant, leads):
    kpi_recompute(tenant=fy_tenant, now=NOW)
    rows = snapshot(fy_tenant)
    april = D(2024, 4, 1)
    assert value(rows, "leads_created", "month", april, "source", "Web") == 1
    assert value(rows, "leads_created", "month", april, "source", "Giveaway") == 1
    assert value(rows, "lead_conversion_rate", "month", april, "source_kind", "incentive") == 1
    assert value(rows, "lead_conversion_rate", "month", april, "source_kind", "inbound") == 0
    assert value(rows, "leads_created", "month", D(2024, 3, 1), "campaign", "Spring") == 1
    assert value(rows, "leads_mql", "month", april, "owner", "rep1@kpi.test") == 2  # L1 and L3
    assert value(rows, "leads_mql", "month", april, "team", "East") == 2
    assert value(rows, "leads_mql", "month", april, "team", "West") == 1
    assert value(rows, "mql_to_sql_rate", "month", april, "team", "East") == Decimal("0.5")  # L3 of L1, L3
    # No group for "no owner" or "no source": L4 counts only in `all`.
    assert not [key for key in rows if key[3] in ("owner", "source") and key[4] == ""]
    # A null rate of a non-`all` group is left out (KPIS.md lets a reader read a missing row as null).
    assert ("mql_to_sql_rate", "month", D(2024, 3, 1), "owner", "rep1@kpi.test") not in rows
