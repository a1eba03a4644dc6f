"""Who changed a deal: every deal write books its history events (django-pghistory) to the acting user, outside
a request too, without leaking an earlier actor of the same transaction; the account team and the contacts on a
deal are tracked as well."""

from __future__ import annotations

from decimal import Decimal

import pghistory
import pytest
from django.apps import apps

from accounts.models import AccountMember, Contact, Opportunity, OpportunityContact, Stage
from accounts.selectors.history import history_for
from accounts.services import accounts as accounts_services
from accounts.services import opportunities as opportunities_services
from accounts.services import opportunity_contacts as opportunity_contacts_services
from accounts.services import pipelines as pipelines_services
from accounts.services import rates as rates_services
from crm.history import history_actor
from crm.models import Role
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


@pytest.fixture
def rep(member):
    return member(role=Role.SALES_REP, team="East")


@pytest.fixture
def account(tenant, rep):
    return deal_account(tenant, owner=rep.user, name="BYD")


def _events(model, pk):
    """(label, context user) of each history event of the row, oldest first."""
    event_model = apps.get_model("accounts", f"{model.__name__}Event")
    return [
        (event.pgh_label, (event.pgh_context.metadata or {}).get("user") if event.pgh_context else None)
        for event in event_model.objects.filter(pgh_obj_id=pk)
        .select_related("pgh_context")
        .order_by("pgh_id")
    ]


def _deal(tenant, actor, account, **kwargs):
    kwargs.setdefault("name", "Fleet deal")
    kwargs.setdefault("amount", Decimal("1000"))
    return opportunities_services.opportunity_create(tenant=tenant, actor=actor, account=account, **kwargs)


def test_every_deal_write_is_booked_to_its_actor_outside_a_request(in_tenant, rep, account):
    user = rep.user
    deal = _deal(in_tenant, user, account)
    deal = opportunities_services.opportunity_update(
        tenant=in_tenant, actor=user, opportunity=deal, version=1, amount="2000"
    )
    deal = opportunities_services.opportunity_move_stage(
        tenant=in_tenant, actor=user, opportunity=deal, stage="Proposal"
    )
    deal = opportunities_services.opportunity_mark_lost(
        tenant=in_tenant, actor=user, opportunity=deal, reason="Budget"
    )
    deal = opportunities_services.opportunity_mark_won(tenant=in_tenant, actor=user, opportunity=deal)
    opportunities_services.opportunity_delete(tenant=in_tenant, actor=user, opportunity=deal)
    opportunities_services.opportunity_restore(tenant=in_tenant, actor=user, opportunity=deal)
    events = _events(Opportunity, deal.pk)
    assert len(events) == 7
    assert events[0] == ("insert", user.pk)
    assert {who for _label, who in events} == {user.pk}


def test_a_system_write_after_a_user_write_in_one_transaction_is_not_booked_to_that_user(
    in_tenant, admin_member, rep, account
):
    deal = _deal(in_tenant, rep.user, account)
    accounts_services.account_update(
        tenant=in_tenant, actor=admin_member.user, account=account, version=None, industry="Cars"
    )
    opportunities_services.opportunity_update(
        tenant=in_tenant, actor=None, opportunity=deal, version=None, amount="1500"
    )
    opportunities_services.opportunity_update(
        tenant=in_tenant, actor=rep.user, opportunity=deal, version=None, amount="1600"
    )
    assert _events(Opportunity, deal.pk) == [
        ("insert", rep.user.pk),
        ("update", None),
        ("update", rep.user.pk),
    ]


def test_a_write_for_someone_else_inside_a_request_context_gets_its_own_context(
    in_tenant, admin_member, rep, account
):
    deal = _deal(in_tenant, rep.user, account)
    with pghistory.context(user=admin_member.user.pk, url="/t/alpha/deals/"):
        opportunities_services.opportunity_update(
            tenant=in_tenant, actor=admin_member.user, opportunity=deal, version=None, name="Renamed"
        )
        opportunities_services.opportunity_update(
            tenant=in_tenant, actor=rep.user, opportunity=deal, version=None, amount="9"
        )
        opportunities_services.opportunity_update(
            tenant=in_tenant, actor=admin_member.user, opportunity=deal, version=None, amount="10"
        )
    assert _events(Opportunity, deal.pk) == [
        ("insert", rep.user.pk),
        ("update", admin_member.user.pk),
        ("update", rep.user.pk),
        ("update", admin_member.user.pk),
    ]


def test_history_actor_restores_the_outer_context(in_tenant, admin_member, rep):
    with pghistory.context(user=admin_member.user.pk) as outer:
        with history_actor(rep.user):
            from pghistory import runtime

            assert runtime._tracker.value.id != outer.id
            assert runtime._tracker.value.metadata["user"] == rep.user.pk
        assert runtime._tracker.value is outer
        assert outer.metadata["user"] == admin_member.user.pk


def test_stage_delete_books_the_moved_deals_to_the_admin(in_tenant, admin_member, rep, account):
    deal = _deal(in_tenant, rep.user, account, stage="Proposal")
    proposal = Stage.objects.get(pipeline=deal.pipeline, name="Proposal")
    negotiation = Stage.objects.get(pipeline=deal.pipeline, name="Negotiation")
    pipelines_services.stage_delete(
        tenant=in_tenant, actor=admin_member.user, stage=proposal, move_to=negotiation
    )
    assert _events(Opportunity, deal.pk)[-1] == ("update", admin_member.user.pk)


def test_reprice_is_booked_to_the_system(in_tenant, rep, account):
    deal = _deal(in_tenant, rep.user, account)
    Opportunity.objects.filter(pk=deal.pk).update(amount_reporting=0)
    rates_services.opportunities_reprice(tenant=in_tenant)
    assert _events(Opportunity, deal.pk)[-1] == ("update", None)


def test_contacts_on_a_deal_are_tracked_with_the_actor(in_tenant, rep, account):
    deal = _deal(in_tenant, rep.user, account)
    contact = Contact.objects.create(tenant=in_tenant, account=account, first_name="Wang", last_name="Fang")
    link = opportunity_contacts_services.opportunity_contact_add(
        tenant=in_tenant, actor=rep.user, opportunity=deal, contact=contact, role="Buyer"
    )
    link_id = link.pk
    opportunity_contacts_services.opportunity_contact_update(
        tenant=in_tenant, actor=rep.user, link=link, is_primary=True
    )
    opportunity_contacts_services.opportunity_contact_remove(tenant=in_tenant, actor=rep.user, link=link)
    assert _events(OpportunityContact, link_id) == [
        ("insert", rep.user.pk),
        ("update", rep.user.pk),
        ("delete", rep.user.pk),
    ]


def test_the_account_team_is_tracked_with_the_actor(in_tenant, admin_member, rep, account):
    member = accounts_services.account_member_set(
        tenant=in_tenant, actor=admin_member.user, account=account, user=rep.user, access="read"
    )
    accounts_services.account_member_set(
        tenant=in_tenant, actor=admin_member.user, account=account, user=rep.user, access="edit"
    )
    accounts_services.account_member_remove(
        tenant=in_tenant, actor=admin_member.user, account=account, user_id=rep.user.pk
    )
    assert not AccountMember.objects.filter(pk=member.pk).exists()
    assert _events(AccountMember, member.pk) == [
        ("insert", admin_member.user.pk),
        ("update", admin_member.user.pk),
        ("delete", admin_member.user.pk),
    ]


def test_deal_history_names_who_changed_what(in_tenant, admin_member, rep, account):
    deal = _deal(in_tenant, rep.user, account)
    opportunities_services.opportunity_update(
        tenant=in_tenant, actor=admin_member.user, opportunity=deal, version=1, amount="5"
    )
    entries = history_for(tenant=in_tenant, obj=deal)
    assert [(entry.action, entry.who) for entry in entries] == [
        ("created", rep.user),
        ("updated", admin_member.user),
    ]
    assert ("amount", "1000.00", "5.00") in [
        (label, str(old), str(new)) for label, old, new in entries[1].changes
    ]
