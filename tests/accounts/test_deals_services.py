"""Services of the deals area: default pipeline, stages, deal create/move/won/lost/update, locking, money."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone

from accounts import signals as accounts_signals
from accounts.models import (
    AccountMember,
    ExchangeRate,
    ForecastCategory,
    Opportunity,
    Pipeline,
    Stage,
    StageChange,
    StageKind,
)
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from accounts.services import pipelines as pipelines_services
from accounts.services import rates as rates_services
from crm.errors import ConflictError
from crm.models import Role
from crm.tenancy import tenant_context
from tests.conftest import make_tenant
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


@pytest.fixture
def account(tenant, rep):
    return deal_account(tenant, owner=rep.user, name="Huawei Cloud")


def _create(tenant, actor, account, **kwargs):
    kwargs.setdefault("name", "Big deal")
    kwargs.setdefault("amount", Decimal("1000"))
    return opportunities_services.opportunity_create(tenant=tenant, actor=actor, account=account, **kwargs)


def test_every_new_tenant_gets_the_default_pipeline(tenant):
    with tenant_context(tenant):
        pipeline = Pipeline.objects.get()
        stages = list(pipeline.stages.order_by("order").values_list("name", "probability", "kind"))
    assert pipeline.name == "Sales" and pipeline.is_default
    assert stages == [
        ("Qualification", Decimal("0.100"), "open"),
        ("Needs analysis", Decimal("0.250"), "open"),
        ("Proposal", Decimal("0.500"), "open"),
        ("Negotiation", Decimal("0.750"), "open"),
        ("Closed won", Decimal("1.000"), "won"),
        ("Closed lost", Decimal("0.000"), "lost"),
    ]


def test_pipeline_create_default_is_idempotent(in_tenant):
    first = pipelines_services.pipeline_default(tenant=in_tenant)
    assert pipelines_services.pipeline_create_default(tenant=in_tenant) == first
    assert Pipeline.objects.count() == 1


def test_create_defaults_first_open_stage_and_records_history(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    assert deal.stage.name == "Qualification"
    assert deal.probability == Decimal("0.100")
    assert deal.currency == "CNY" and deal.amount_reporting == Decimal("1000.00")
    assert deal.owner == rep.user and deal.forecast_category == ForecastCategory.PIPELINE
    change = StageChange.objects.get(opportunity=deal)
    assert change.from_stage is None and change.to_stage == deal.stage and change.actor == rep.user


def test_create_keeps_historical_timestamps_and_stage_by_name(in_tenant, rep, account):
    created = timezone.now() - dt.timedelta(days=200)
    closed = created + dt.timedelta(days=40)
    deal = _create(
        in_tenant,
        rep.user,
        account,
        stage="closed lost",
        created_at=created,
        closed_at=closed,
        lost_reason="Price",
    )
    assert deal.created_at == created and deal.closed_at == closed
    assert deal.forecast_category == ForecastCategory.OMITTED and deal.probability == 0
    assert deal.lost_reason == "Price"
    assert StageChange.objects.get(opportunity=deal).changed_at == created


def test_unknown_stage_name_is_a_field_error(in_tenant, rep, account):
    with pytest.raises(ValidationError) as exc:
        _create(in_tenant, rep.user, account, stage="Nope")
    assert "stage" in exc.value.message_dict


def test_move_to_won_closes_the_deal(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account, forecast_category="commit")
    won = Stage.objects.get(name="Closed won")
    moved = opportunities_services.opportunity_move_stage(
        tenant=in_tenant, actor=rep.user, opportunity=deal, stage=won, version=1
    )
    assert moved.stage == won and moved.closed_at is not None
    assert moved.probability == 1 and moved.forecast_category == ForecastCategory.CLOSED
    assert moved.version == 2
    last = StageChange.objects.filter(opportunity=deal).order_by("-id").first()
    assert last.from_stage.name == "Qualification" and last.to_stage == won
    assert last.amount == Decimal("1000.00") and last.probability == 1


def test_move_to_lost_requires_a_reason(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    lost = Stage.objects.get(name="Closed lost")
    with pytest.raises(ValidationError) as exc:
        opportunities_services.opportunity_move_stage(
            tenant=in_tenant, actor=rep.user, opportunity=deal, stage=lost
        )
    assert "lost_reason" in exc.value.message_dict
    deal.refresh_from_db()
    assert deal.stage.kind == StageKind.OPEN
    moved = opportunities_services.opportunity_move_stage(
        tenant=in_tenant, actor=rep.user, opportunity=deal, stage=lost, lost_reason="Budget cut"
    )
    assert moved.lost_reason == "Budget cut" and moved.forecast_category == ForecastCategory.OMITTED


def test_reopening_clears_close_fields(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    deal = opportunities_services.opportunity_mark_lost(
        tenant=in_tenant, actor=rep.user, opportunity=deal, reason="Timing"
    )
    deal = opportunities_services.opportunity_move_stage(
        tenant=in_tenant, actor=rep.user, opportunity=deal, stage="Proposal"
    )
    assert deal.closed_at is None and deal.lost_reason == "" and deal.probability == Decimal("0.500")
    assert deal.forecast_category == ForecastCategory.PIPELINE


def test_mark_won_and_lost(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    won = opportunities_services.opportunity_mark_won(
        tenant=in_tenant, actor=rep.user, opportunity=deal, version=1
    )
    assert won.stage.kind == StageKind.WON
    other = _create(in_tenant, rep.user, account, name="Second")
    with pytest.raises(ValidationError):
        opportunities_services.opportunity_mark_lost(
            tenant=in_tenant, actor=rep.user, opportunity=other, reason=" "
        )
    lost = opportunities_services.opportunity_mark_lost(
        tenant=in_tenant, actor=rep.user, opportunity=other, reason="Competitor"
    )
    assert lost.stage.kind == StageKind.LOST and lost.closed_at is not None


def test_stale_version_raises_conflict_with_current_values(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    opportunities_services.opportunity_update(
        tenant=in_tenant, actor=rep.user, opportunity=deal, version=1, name="Renamed"
    )
    with pytest.raises(ConflictError) as exc:
        opportunities_services.opportunity_update(
            tenant=in_tenant, actor=rep.user, opportunity=deal, version=1, amount="5"
        )
    assert exc.value.extra["current"]["name"] == "Renamed"
    assert exc.value.extra["current"]["version"] == 2
    deal.refresh_from_db()
    assert deal.amount == Decimal("1000.00")


def test_update_with_stage_goes_through_move_rules(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    lost = Stage.objects.get(name="Closed lost")
    with pytest.raises(ValidationError):
        opportunities_services.opportunity_update(
            tenant=in_tenant, actor=rep.user, opportunity=deal, version=1, stage=lost
        )
    deal = opportunities_services.opportunity_update(
        tenant=in_tenant, actor=rep.user, opportunity=deal, version=1, stage=lost, lost_reason="No budget"
    )
    assert deal.closed_at is not None and StageChange.objects.filter(opportunity=deal).count() == 2


def test_update_rejects_unknown_fields(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    with pytest.raises(ValidationError):
        opportunities_services.opportunity_update(
            tenant=in_tenant, actor=rep.user, opportunity=deal, version=1, tenant_id=5
        )


def test_rep_cannot_edit_a_deal_of_a_shared_account(tenant, member, in_tenant, rep, account):
    other_rep = member(role=Role.SALES_REP, team="East")
    deal = _create(in_tenant, rep.user, account)
    AccountMember.objects.create(tenant=tenant, account=account, user=other_rep.user, access="read")
    with pytest.raises(PermissionDenied):
        opportunities_services.opportunity_update(
            tenant=tenant, actor=other_rep.user, opportunity=deal, version=1, name="x"
        )
    with pytest.raises(PermissionDenied):
        opportunities_services.opportunity_move_stage(
            tenant=tenant, actor=other_rep.user, opportunity=deal, stage="Proposal"
        )


def test_manager_edits_team_deals_ops_edits_none(tenant, member, in_tenant, rep, account):
    manager = member(role=Role.SALES_MANAGER, team="East")
    outsider = member(role=Role.SALES_MANAGER, team="West")
    ops = member(role=Role.OPS)
    deal = _create(in_tenant, rep.user, account)
    opportunities_services.opportunity_update(
        tenant=tenant, actor=manager.user, opportunity=deal, version=1, name="By manager"
    )
    for actor in (outsider.user, ops.user):
        with pytest.raises(PermissionDenied):
            opportunities_services.opportunity_update(
                tenant=tenant, actor=actor, opportunity=deal, version=None, name="x"
            )


def test_cs_creates_and_edits_renewals_only(tenant, member, in_tenant, rep):
    cs = member(role=Role.CS)
    customer = deal_account(tenant, owner=rep.user, lifecycle_stage="retention")
    with pytest.raises(ValidationError):
        _create(tenant, cs.user, customer, type="new_business")
    renewal = _create(tenant, cs.user, customer, type="renewal")
    opportunities_services.opportunity_update(
        tenant=tenant, actor=cs.user, opportunity=renewal, version=1, amount="2000"
    )
    new_biz = _create(tenant, rep.user, customer)
    with pytest.raises(PermissionDenied):
        opportunities_services.opportunity_update(
            tenant=tenant, actor=cs.user, opportunity=new_biz, version=1, amount="1"
        )


def test_rep_cannot_create_on_an_invisible_account_or_for_someone_else(tenant, member, in_tenant, rep):
    other_rep = member(role=Role.SALES_REP, team="East")
    foreign = deal_account(tenant, owner=other_rep.user)
    with pytest.raises(ValidationError) as exc:
        _create(tenant, rep.user, foreign)
    assert "account" in exc.value.message_dict
    mine = deal_account(tenant, owner=rep.user)
    with pytest.raises(ValidationError) as exc:
        _create(tenant, rep.user, mine, owner=other_rep.user)
    assert "owner" in exc.value.message_dict


def test_foreign_currency_converts_at_rates(in_tenant, rep, account):
    today = timezone.localdate()
    ExchangeRate.objects.create(
        tenant=in_tenant, currency="USD", valid_from=today - dt.timedelta(days=400), rate="7"
    )
    ExchangeRate.objects.create(
        tenant=in_tenant, currency="USD", valid_from=today - dt.timedelta(days=10), rate="7.2"
    )
    deal = _create(in_tenant, rep.user, account, currency="usd", amount="100")
    assert deal.currency == "USD" and deal.amount_reporting == Decimal("720.00")
    closed = _create(
        in_tenant,
        rep.user,
        account,
        currency="USD",
        amount="100",
        stage="Closed won",
        created_at=timezone.now() - dt.timedelta(days=100),
        closed_at=timezone.now() - dt.timedelta(days=90),
    )
    assert closed.amount_reporting == Decimal("700.00")


def test_missing_rate_is_a_currency_error(in_tenant, rep, account):
    with pytest.raises(ValidationError) as exc:
        _create(in_tenant, rep.user, account, currency="JPY")
    assert "currency" in exc.value.message_dict


def test_reprice_updates_open_deals_set_based(in_tenant, rep, account, django_assert_num_queries):
    today = timezone.localdate()
    ExchangeRate.objects.create(
        tenant=in_tenant, currency="USD", valid_from=today - dt.timedelta(days=400), rate="7"
    )
    deals = [
        _create(in_tenant, rep.user, account, currency="USD", amount="10", name=f"D{i}") for i in range(3)
    ]
    won = _create(
        in_tenant,
        rep.user,
        account,
        currency="USD",
        amount="10",
        stage="Closed won",
        created_at=timezone.now() - dt.timedelta(days=30),
        closed_at=timezone.now() - dt.timedelta(days=20),
    )
    ExchangeRate.objects.create(tenant=in_tenant, currency="USD", valid_from=today, rate="8")
    # savepoint, open UPDATE, closed UPDATE, release: the rates are subqueries of the UPDATEs
    with django_assert_num_queries(4):
        rates_services.opportunities_reprice(tenant=in_tenant, currency="USD")
    assert {d.amount_reporting for d in Opportunity.objects.filter(pk__in=[d.pk for d in deals])} == {
        Decimal("80.00")
    }
    won.refresh_from_db()
    assert won.amount_reporting == Decimal("70.00")


def test_stage_admin_rules(in_tenant, admin_member, rep):
    admin = admin_member.user
    pipeline = pipelines_services.pipeline_create(tenant=in_tenant, actor=admin, name="Channel")
    assert pipeline.stages.count() == 6 and not pipeline.is_default
    with pytest.raises(PermissionDenied):
        pipelines_services.pipeline_create(tenant=in_tenant, actor=rep.user, name="Nope")
    added = pipelines_services.stage_create(
        tenant=in_tenant, actor=admin, pipeline=pipeline, name="Demo", probability="0.6"
    )
    names = list(pipeline.stages.order_by("order").values_list("name", flat=True))
    assert names.index("Demo") == 4  # after the last open stage, before the closed ones
    pipelines_services.stage_move(tenant=in_tenant, actor=admin, stage=added, direction="up")
    assert list(pipeline.stages.order_by("order").values_list("name", flat=True))[3] == "Demo"
    won = pipeline.stages.get(kind=StageKind.WON)
    with pytest.raises(ValidationError):
        pipelines_services.stage_update(tenant=in_tenant, actor=admin, stage=won, kind=StageKind.OPEN)
    with pytest.raises(ValidationError):
        pipelines_services.stage_delete(
            tenant=in_tenant, actor=admin, stage=pipeline.stages.get(kind=StageKind.LOST)
        )
    pipelines_services.pipeline_update(tenant=in_tenant, actor=admin, pipeline=pipeline, is_default=True)
    assert Pipeline.objects.get(is_default=True) == pipeline


def test_stage_delete_moves_deals(in_tenant, admin_member, rep, account):
    deal = _create(in_tenant, rep.user, account, stage="Proposal")
    proposal = deal.stage
    negotiation = Stage.objects.get(name="Negotiation")
    with pytest.raises(ValidationError) as exc:
        pipelines_services.stage_delete(tenant=in_tenant, actor=admin_member.user, stage=proposal)
    assert "move_to" in exc.value.message_dict
    moved = pipelines_services.stage_delete(
        tenant=in_tenant, actor=admin_member.user, stage=proposal, move_to=negotiation
    )
    assert moved == 1
    deal.refresh_from_db()
    assert deal.stage == negotiation and deal.version == 2
    assert StageChange.objects.filter(opportunity=deal, to_stage=negotiation).exists()


def test_contacts_on_deal(in_tenant, rep, account):
    from accounts.models import Contact

    deal = _create(in_tenant, rep.user, account)
    c1 = Contact.objects.create(tenant=in_tenant, account=account, first_name="Li", last_name="Wei")
    c2 = Contact.objects.create(tenant=in_tenant, account=account, first_name="Wang", last_name="Fang")
    stranger = Contact.objects.create(tenant=in_tenant, first_name="No", last_name="Account")
    first = opportunity_contacts_services.opportunity_contact_add(
        tenant=in_tenant, actor=rep.user, opportunity=deal, contact=c1, role="Champion", is_primary=True
    )
    second = opportunity_contacts_services.opportunity_contact_add(
        tenant=in_tenant, actor=rep.user, opportunity=deal, contact=c2, role="Buyer", is_primary=True
    )
    first.refresh_from_db()
    assert second.is_primary and not first.is_primary
    with pytest.raises(ValidationError):
        opportunity_contacts_services.opportunity_contact_add(
            tenant=in_tenant, actor=rep.user, opportunity=deal, contact=stranger
        )
    opportunity_contacts_services.opportunity_contact_remove(tenant=in_tenant, actor=rep.user, link=first)
    assert deal.contact_roles.count() == 1


def test_soft_delete_and_restore(in_tenant, rep, account):
    deal = _create(in_tenant, rep.user, account)
    opportunities_services.opportunity_delete(tenant=in_tenant, actor=rep.user, opportunity=deal)
    assert deal.deleted_at is not None
    opportunities_services.opportunity_restore(tenant=in_tenant, actor=rep.user, opportunity=deal)
    assert deal.deleted_at is None


def test_stage_changed_signal_fires_on_commit(tenant, rep, account, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):  # type: ignore[no-untyped-def]
        received.append(kwargs["to_stage"].name)

    accounts_signals.opportunity_stage_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
            deal = _create(tenant, rep.user, account)
            opportunities_services.opportunity_mark_won(tenant=tenant, actor=rep.user, opportunity=deal)
    finally:
        accounts_signals.opportunity_stage_changed.disconnect(receiver)
    assert received == ["Qualification", "Closed won"]


def test_tenant_created_in_another_currency_gets_its_own_pipeline(db):
    other = make_tenant("gamma", currency="EUR")
    with tenant_context(other):
        assert pipelines_services.pipeline_default(tenant=other).stages.count() == 6
