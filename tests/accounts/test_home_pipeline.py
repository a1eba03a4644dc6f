"""Issue 12 item 4: the home page's open-pipeline figure and the chart under it agree. The figure counts the open
deals of every pipeline (and says so); the chart shows the default pipeline by stage, names it, and its footer
gives its total and each other pipeline's, which together make the figure."""

from __future__ import annotations

import json
import re
from decimal import Decimal

import pytest
from django.urls import reverse

from accounts.models import Stage, StageKind
from accounts.services import opportunities as opportunities_services
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories_deals import PipelineFactory, StageFactory, deal_account

pytestmark = pytest.mark.django_db


def _home(tenant):
    return reverse("crm:tenant-home", kwargs={"slug": tenant.slug})


def _grow(tenant, actor, copies):
    """`copies` open deals of 1,000 in Sales' Proposal and of 500 in a Renewals pipeline, one won Sales deal."""
    account = deal_account(tenant, owner=actor)
    with tenant_context(tenant):
        renewals = PipelineFactory(tenant=tenant, name="Renewals")
        renewal_stage = StageFactory(tenant=tenant, pipeline=renewals, name="Up for renewal", order=1)
        StageFactory(tenant=tenant, pipeline=renewals, name="Renewed", kind=StageKind.WON, order=2)
        proposal = Stage.objects.get(pipeline__is_default=True, name="Proposal")
        for n in range(copies):
            opportunities_services.opportunity_create(
                tenant=tenant,
                actor=actor,
                account=account,
                name=f"S{n}",
                amount=Decimal("1000"),
                stage=proposal,
            )
            opportunities_services.opportunity_create(
                tenant=tenant,
                actor=actor,
                account=account,
                name=f"R{n}",
                amount=Decimal("500"),
                pipeline=renewals,
                stage=renewal_stage,
            )
        won = opportunities_services.opportunity_create(
            tenant=tenant, actor=actor, account=account, name="Won", amount=Decimal("7000"), stage=proposal
        )
        opportunities_services.opportunity_mark_won(tenant=tenant, actor=actor, opportunity=won)


def _number(text):
    return Decimal(re.sub(r"[^0-9.]", "", text))


@pytest.mark.parametrize("copies", [2, 5])
def test_open_pipeline_figure_equals_the_chart_plus_the_other_pipelines(
    tenant, member, client_for, django_assert_num_queries, copies
):
    manager = member(role=Role.SALES_MANAGER, team="East")
    _grow(tenant, manager.user, copies)
    client = client_for(manager)
    client.get(_home(tenant))
    # The whole home page of a manager (every card), the same at both sizes; the chart card is three of them.
    with django_assert_num_queries(24):
        body = client.get(_home(tenant)).content.decode()
    figure = re.search(r'data-testid="home-open-pipeline">([^<]+)<', body).group(1)
    assert _number(figure) == 1500 * copies
    assert "Open pipeline (all pipelines)" in body
    assert "Open pipeline by stage: Sales" in body
    chart = json.loads(re.search(r'id="home-stage-data" type="application/json">([^<]+)<', body).group(1))
    assert [row["label"] for row in chart] == ["Qualification", "Needs analysis", "Proposal", "Negotiation"]
    chart_sum = sum(Decimal(str(row["amount"])) for row in chart)
    assert chart_sum == 1000 * copies
    footer = body.split('data-testid="home-stage-chart-totals"')[1].split("</div>\n    </div>")[0]
    assert f"In this chart (Sales): {tenant.currency} {1000 * copies:,} in {copies} deals" in footer
    other = re.search(r'data-testid="home-stage-chart-other">([^<]+)<', footer).group(1)
    assert other == f"Not in this chart (Renewals): {tenant.currency} {500 * copies:,} in {copies} deals"
    assert chart_sum + _number(other.split(":")[1].split(" in ")[0]) == _number(figure)


def test_with_one_pipeline_the_chart_is_the_figure(tenant, admin_member, client_for):
    account = deal_account(tenant, owner=admin_member.user)
    with tenant_context(tenant):
        opportunities_services.opportunity_create(
            tenant=tenant, actor=admin_member.user, account=account, name="Only", amount=Decimal("2500")
        )
    body = client_for(admin_member).get(_home(tenant)).content.decode()
    assert f"In this chart (Sales): {tenant.currency} 2,500 in 1 deal<" in body
    assert 'data-testid="home-stage-chart-other"' not in body
    assert "Together they make" not in body


def test_the_parts_as_shown_add_up_to_the_figure_as_shown(tenant, admin_member, client_for):
    """Whole units: 1,000.50 + 500.50 shows 1,501 on the figure, so the parts show 1,000 and 501 (not 1,001)."""
    account = deal_account(tenant, owner=admin_member.user)
    with tenant_context(tenant):
        renewals = PipelineFactory(tenant=tenant, name="Renewals")
        stage = StageFactory(tenant=tenant, pipeline=renewals, name="Up for renewal", order=1)
        for name, amount, extra in (
            ("S", "1000.50", {}),
            ("R", "500.50", {"pipeline": renewals, "stage": stage}),
        ):
            opportunities_services.opportunity_create(
                tenant=tenant,
                actor=admin_member.user,
                account=account,
                name=name,
                amount=Decimal(amount),
                **extra,
            )
    body = client_for(admin_member).get(_home(tenant)).content.decode()
    assert (
        re.search(r'data-testid="home-open-pipeline">([^<]+)<', body).group(1) == f"{tenant.currency} 1,501"
    )
    assert f"In this chart (Sales): {tenant.currency} 1,000 in 1 deal<" in body
    assert f"Not in this chart (Renewals): {tenant.currency} 501 in 1 deal<" in body
