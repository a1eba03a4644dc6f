"""Reads of opportunities (deals): the visible deals, one deal with its detail, the choices of the deal forms,
the deal's contacts and stage history, and the totals (amount and weighted) of a set of deals."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.db.models import (
    BooleanField,
    Count,
    DecimalField,
    ExpressionWrapper,
    F,
    Prefetch,
    Q,
    QuerySet,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce

from accounts.links import lead_link
from accounts.models import Account, Contact, Opportunity, OpportunityContact, StageChange
from accounts.selectors.visibility import (
    account_queryset,
    contact_queryset,
    contact_visibility_q,
    member_scope,
    opportunity_visibility_q,
)
from crm.models import Membership, MembershipStatus, Role, Tenant

LIST_PAGE_SIZE = 50


COUNT_CAP = 10_000


MONEY = DecimalField(max_digits=20, decimal_places=2)


def deal_account_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Account]:
    """Accounts the member may put a deal on: the accounts they can see (the records area's visibility)."""
    return account_queryset(tenant=tenant, membership=membership).filter(merged_into__isnull=True)


def deal_owner_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Membership]:
    """Members a deal may be given to by this member (reps: themselves; managers: their team; admins/cs: all)."""
    members = Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE).select_related("user")
    if membership.role in (Role.SALES_REP,):
        return members.filter(user_id=membership.user_id)
    if membership.role == Role.SALES_MANAGER:
        return members.filter(user_id__in=sorted(member_scope(membership) or set()))
    return members.order_by("user__full_name", "user__email")


def opportunity_base(*, tenant: Tenant, membership: Membership, include_deleted: bool = False) -> QuerySet:
    deals = Opportunity.objects.filter(tenant=tenant)
    if not include_deleted:
        deals = deals.filter(deleted_at__isnull=True)
    visible = opportunity_visibility_q(membership)
    if visible is not None:
        deals = deals.filter(visible)
    return deals


def opportunity_list(
    *, tenant: Tenant, membership: Membership, filters: dict[str, Any] | None = None
) -> QuerySet[Opportunity]:
    """Visible, not deleted deals with what a row needs (account, stage, pipeline, owner) in one query.

    `filters` are the cleaned values of accounts.filters.opportunities.OpportunityFilter (applied by the FilterSet when
    it is used directly); here only the plain keys are handled for callers outside the request path.
    """
    deals = opportunity_base(tenant=tenant, membership=membership).select_related(
        "account", "stage", "pipeline", "owner"
    )
    for key, value in (filters or {}).items():
        if value in (None, ""):
            continue
        if key in {"pipeline", "stage", "owner", "account", "type", "forecast_category"}:
            deals = deals.filter(**{key: value})
    return deals


def opportunity_get(
    *, tenant: Tenant, membership: Membership, pk: int, include_deleted: bool = False
) -> Opportunity:
    return (
        opportunity_base(tenant=tenant, membership=membership, include_deleted=include_deleted)
        .select_related("account", "stage", "pipeline", "owner", "lead")
        .get(pk=pk)
    )


def opportunity_detail(*, tenant: Tenant, membership: Membership, pk: int) -> Opportunity:
    """The deal page: the deal with its stage history and contact roles prefetched (fixed query count).

    Only the contacts the member may see are on it, and `lead_visible` says whether the member may see the
    lead the deal came from (the page names it only then)."""
    leads = lead_link()

    history = StageChange.objects.filter(tenant=tenant).select_related("from_stage", "to_stage", "actor")
    contacts = (
        OpportunityContact.objects.filter(tenant=tenant)
        .select_related("contact")
        .order_by("-is_primary", "contact__last_name", "contact__first_name", "id")
    )
    contact_q = contact_visibility_q(membership)
    if contact_q is not None:
        contacts = contacts.filter(contact_id__in=Contact.objects.filter(contact_q).values("pk"))
    lead_q = leads.visibility_q(membership)
    lead_visible: Any = Value(True, output_field=BooleanField())
    if lead_q is not None:
        visible_leads = (
            leads.model._default_manager.filter(deleted_at__isnull=True).filter(lead_q).values("pk")
        )
        lead_visible = ExpressionWrapper(Q(lead_id__in=visible_leads), output_field=BooleanField())
    return (
        opportunity_base(tenant=tenant, membership=membership, include_deleted=True)
        .annotate(lead_visible=lead_visible)
        .select_related("account", "stage", "pipeline", "owner", "lead", "source", "campaign")
        .prefetch_related(
            Prefetch("stage_changes", queryset=history.order_by("-changed_at", "-id"), to_attr="history"),
            Prefetch("contact_roles", queryset=contacts, to_attr="contact_links"),
        )
        .get(pk=pk)
    )


def opportunity_contact_choices(
    *, tenant: Tenant, membership: Membership, opportunity: Opportunity
) -> QuerySet[Contact]:
    """Contacts of the deal's account, visible to the member, that are not on the deal yet (the form's choices
    and the API's check: any other id is "does not exist")."""
    on_deal = OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity).values("contact_id")
    return (
        contact_queryset(tenant=tenant, membership=membership)
        .filter(account_id=opportunity.account_id)
        .exclude(pk__in=on_deal)
        .order_by("last_name", "first_name", "id")
    )


def opportunity_contact_links(
    *, tenant: Tenant, membership: Membership, opportunity: Opportunity
) -> QuerySet[OpportunityContact]:
    """The contacts on the deal that the member may see (primary first), with the contact."""
    links = (
        OpportunityContact.objects.filter(tenant=tenant, opportunity=opportunity)
        .select_related("contact")
        .order_by("-is_primary", "id")
    )
    contact_q = contact_visibility_q(membership)
    if contact_q is not None:
        links = links.filter(contact_id__in=Contact.objects.filter(contact_q).values("pk"))
    return links


def opportunity_contact_get(*, tenant: Tenant, opportunity: Opportunity, pk: int) -> OpportunityContact:
    return (
        OpportunityContact.objects.select_related("contact", "opportunity")
        .filter(tenant=tenant, opportunity=opportunity)
        .get(pk=pk)
    )


def stage_history(*, tenant: Tenant, opportunity: Opportunity) -> QuerySet[StageChange]:
    return (
        StageChange.objects.filter(tenant=tenant, opportunity=opportunity)
        .select_related("from_stage", "to_stage", "actor")
        .order_by("-changed_at", "-id")
    )


def weighted_expression() -> ExpressionWrapper:
    return ExpressionWrapper(F("amount_reporting") * F("probability"), output_field=MONEY)


def opportunity_totals(deals: QuerySet[Opportunity]) -> dict[str, Any]:
    """Count, amount and weighted amount (reporting currency) of a filtered deal set: one aggregate query."""
    totals = deals.order_by().aggregate(
        count=Count("id"),
        amount=Coalesce(Sum("amount_reporting"), Decimal(0), output_field=MONEY),
        weighted=Coalesce(Sum(weighted_expression()), Decimal(0), output_field=MONEY),
    )
    return totals
