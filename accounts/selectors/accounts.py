"""Reads of accounts: the list, one account, the choices of account pickers, the deleted account of the
restore banner and the account profile (contacts, deals and their totals, timeline)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import Count, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce

from accounts.filters.accounts import AccountFilterSet
from accounts.models import Account, AccountMember, Contact, Opportunity, StageKind
from accounts.selectors.opportunities import MONEY, opportunity_base
from accounts.selectors.timeline import timeline_for
from accounts.selectors.visibility import (
    _with_can_edit,
    _with_parent_visible,
    account_queryset,
    account_visibility_q,
)
from crm.filtering import filterset_rows
from crm.models import Membership, Tenant


def account_list(*, tenant: Tenant, membership: Membership, filters: dict | None = None) -> QuerySet[Account]:
    """Visible accounts with their owner and parent; `filters` (a query dict) goes through AccountFilterSet."""
    qs = account_queryset(tenant=tenant, membership=membership).select_related("owner", "parent")
    qs = _with_parent_visible(qs, membership)
    if filters:
        filterset = AccountFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset_rows(filterset)
    return qs


def account_get(*, tenant: Tenant, membership: Membership, pk: int, for_edit: bool = False) -> Account:
    """One visible account (Account.DoesNotExist otherwise), with `can_edit` annotated."""
    qs = account_queryset(tenant=tenant, membership=membership, for_edit=for_edit).select_related(
        "owner", "parent"
    )
    return _with_can_edit(_with_parent_visible(qs, membership), membership, Account).get(pk=pk)


def account_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Account]:
    """Accounts offered in form choices (parent, a contact's account): the ones the member may see."""
    return account_queryset(tenant=tenant, membership=membership).only("pk", "name").order_by("name", "pk")


ACCOUNT_PROFILE_DEALS = 100


ACCOUNT_PROFILE_CONTACTS = 200


@dataclass
class AccountProfile:
    """Everything the account 360 page shows, read in a fixed number of queries.

    The deal and contact lists are cut at ACCOUNT_PROFILE_DEALS / _CONTACTS rows; `deal_count` and
    `contact_count` are the full numbers (the page says "showing N of M"), and the money totals are summed by the
    database over every deal the member may see, not over the rows shown."""

    account: Account
    owner_team: Any
    children: list[Account]
    contacts: list[Contact]
    opportunities: list[Opportunity]
    timeline: list
    members: list[AccountMember]
    open_pipeline: Decimal = Decimal(0)
    won_amount: Decimal = Decimal(0)
    deal_count: int = 0
    contact_count: int = 0

    @property
    def deals_cut(self) -> bool:
        return self.deal_count > len(self.opportunities)

    @property
    def contacts_cut(self) -> bool:
        return self.contact_count > len(self.contacts)


def account_deal_totals(*, tenant: Tenant, membership: Membership, account: Account) -> dict[str, Any]:
    """Count, open pipeline and won amount (reporting currency) of the account's deals the member may see: one
    aggregate query over all of them."""
    return (
        opportunity_base(tenant=tenant, membership=membership)
        .filter(account=account)
        .order_by()
        .aggregate(
            count=Count("id"),
            open_pipeline=Coalesce(
                Sum("amount_reporting", filter=Q(stage__kind=StageKind.OPEN)), Decimal(0), output_field=MONEY
            ),
            won_amount=Coalesce(
                Sum("amount_reporting", filter=Q(stage__kind=StageKind.WON)), Decimal(0), output_field=MONEY
            ),
        )
    )


def account_profile(*, tenant: Tenant, membership: Membership, pk: int) -> AccountProfile:
    account = account_get(tenant=tenant, membership=membership, pk=pk)
    owner_team = None
    if account.owner_id:
        owner_membership = (
            Membership.objects.filter(tenant=tenant, user_id=account.owner_id).select_related("team").first()
        )
        owner_team = owner_membership.team if owner_membership else None
    children = list(
        account_queryset(tenant=tenant, membership=membership)
        .filter(parent=account)
        .only("pk", "name", "tier", "region")
        .order_by("name")[:50]
    )
    # The contacts of a visible account are visible (contact_visibility_q); the window counts all of them in
    # the same query, before the LIMIT.
    contacts = list(
        Contact.objects.filter(tenant=tenant, account=account, deleted_at=None)
        .annotate(total=Window(Count("pk")))
        .order_by("last_name", "first_name", "pk")[:ACCOUNT_PROFILE_CONTACTS]
    )
    opportunities = list(
        opportunity_base(tenant=tenant, membership=membership)
        .filter(account=account)
        .select_related("stage", "owner")
        .order_by("-created_at", "-pk")[:ACCOUNT_PROFILE_DEALS]
    )
    members = list(
        AccountMember.objects.filter(tenant=tenant, account=account).select_related("user").order_by("pk")
    )
    totals = account_deal_totals(tenant=tenant, membership=membership, account=account)
    return AccountProfile(
        account=account,
        owner_team=owner_team,
        children=children,
        contacts=contacts,
        opportunities=opportunities,
        timeline=timeline_for(tenant=tenant, membership=membership, account=account),
        members=members,
        open_pipeline=totals["open_pipeline"],
        won_amount=totals["won_amount"],
        deal_count=totals["count"],
        contact_count=contacts[0].total if contacts else 0,
    )


def account_deleted_get(*, tenant: Tenant, membership: Membership, pk: Any) -> Account | None:
    """A soft-deleted (not merged) account the member could edit, for the Undo banner and restore."""
    if not str(pk).isdecimal():
        return None
    qs = Account.objects.filter(tenant=tenant, pk=int(pk), merged_into=None).exclude(deleted_at=None)
    q = account_visibility_q(membership, for_edit=True)
    return (qs if q is None else qs.filter(q)).first()
