"""Who sees and edits what in the accounts app: the visibility filters of accounts, contacts, activities and
deals (by role, team, ownership and account team) and the querysets and edit checks built on them."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import cast

from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet

from accounts.links import lead_link
from accounts.models import (
    Account,
    AccountAccess,
    AccountMember,
    Activity,
    Contact,
    Opportunity,
    OpportunityType,
)
from accounts.selectors.common import CUSTOMER_STAGES
from crm.models import Membership, Role, Tenant
from crm.visibility import owner_scope


@dataclass(frozen=True)
class AccountColumns:
    """Where a row finds the account fields the visibility rules read: an account itself (the default), or a row
    that carries copies of them (lifecycle's stage changes and subscriptions keep the account's stage, owner and
    liveness in their own columns, so their aggregates filter without joining every account)."""

    pk: str = "pk"
    stage: str = "lifecycle_stage"
    owner: str = "owner_id"


ACCOUNT_COLUMNS = AccountColumns()


def _works_on_q(user_ids: set[int] | None, *, for_edit: bool, pk: str = "pk") -> Q:
    """Accounts the given users work on: account team rows, and (for reading) owning a deal or an activity.

    Logging an activity never grants edit rights, so a read-only share cannot be widened by logging a call.
    """
    members = AccountMember.objects.filter(account_id=OuterRef(pk), user_id__in=user_ids)
    if for_edit:
        members = members.filter(access=AccountAccess.EDIT)
    q = Q(Exists(members)) | Q(
        Exists(Opportunity.objects.filter(account_id=OuterRef(pk), owner_id__in=user_ids, deleted_at=None))
    )
    if not for_edit:
        q |= Q(Exists(Activity.objects.filter(account_id=OuterRef(pk), owner_id__in=user_ids)))
    return q


@dataclass(frozen=True)
class VisibilityParts:
    """account_visibility_q in two parts: `direct`, a condition on the account's own columns (stage, owner; None:
    every account), and `works_on_users`, whose account-team rows, deals and (for reading) activities make an
    account visible too (None: nobody's). Aggregates kept per (stage, owner) use `direct` on their rows and read
    only the works-on accounts live."""

    direct: Q | None
    works_on_users: set[int] | None = None
    works_on_edit: bool = False
    # Stages whose every account is visible (cs: the customer stages): rows known to be in them need no filter.
    whole_stages: frozenset[str] = frozenset()


def account_visibility_parts(
    membership: Membership, *, for_edit: bool = False, columns: AccountColumns = ACCOUNT_COLUMNS
) -> VisibilityParts:
    role = membership.role
    if role == Role.ADMIN:
        return VisibilityParts(None)
    if role == Role.OPS:
        return VisibilityParts(None if not for_edit else Q(**{f"{columns.pk}__in": []}))
    if role == Role.CS:
        return VisibilityParts(
            Q(**{f"{columns.stage}__in": CUSTOMER_STAGES}) | Q(**{columns.owner: membership.user_id}),
            {membership.user_id},
            works_on_edit=True,
            whole_stages=frozenset(stage.value for stage in CUSTOMER_STAGES),
        )
    user_ids = owner_scope(membership) or {membership.user_id}
    return VisibilityParts(Q(**{f"{columns.owner}__in": user_ids}), user_ids, works_on_edit=for_edit)


def works_on_account_ids(parts: VisibilityParts) -> QuerySet:
    """The ids of the accounts `parts.works_on_users` work on (the works-on half of the rule, as a set of ids
    from the team, deal and activity tables: a semi-join driven by those users' rows, not a test per account)."""
    users = parts.works_on_users or set()
    members = AccountMember.objects.filter(user_id__in=users)
    if parts.works_on_edit:
        members = members.filter(access=AccountAccess.EDIT)
    ids = members.values("account_id").union(
        Opportunity.objects.filter(owner_id__in=users, deleted_at=None, account_id__isnull=False).values(
            "account_id"
        )
    )
    if not parts.works_on_edit:
        ids = ids.union(
            Activity.objects.filter(owner_id__in=users, account_id__isnull=False).values("account_id")
        )
    return ids


def account_visibility_q(
    membership: Membership, *, for_edit: bool = False, columns: AccountColumns = ACCOUNT_COLUMNS
) -> Q | None:
    """The accounts `membership` may see (or edit): None means all of them; Q() with no match means none.
    `columns`: the same rule on rows that carry the account's fields under other names (AccountColumns)."""
    parts = account_visibility_parts(membership, for_edit=for_edit, columns=columns)
    if parts.direct is None or parts.works_on_users is None:
        return parts.direct
    return parts.direct | _works_on_q(parts.works_on_users, for_edit=parts.works_on_edit, pk=columns.pk)


def account_queryset(*, tenant: Tenant, membership: Membership, for_edit: bool = False) -> QuerySet[Account]:
    """Live (not deleted) accounts visible to (or editable by) the member. The base of every account read."""
    qs = Account.objects.filter(tenant=tenant, deleted_at=None)
    q = account_visibility_q(membership, for_edit=for_edit)
    return qs if q is None else qs.filter(q)


def contact_visibility_q(
    membership: Membership, *, for_edit: bool = False, among_accounts: QuerySet | None = None
) -> Q | None:
    """`among_accounts` (ids): the caller reads only contacts of these accounts (or none), so only these accounts'
    visibility is worked out (the global search: a few candidates, not every account's team and deal rules)."""
    account_q = account_visibility_q(membership, for_edit=for_edit)
    if account_q is None:
        return None
    if membership.role == Role.OPS and for_edit:
        return Q(pk__in=[])
    accounts = Account.objects.filter(deleted_at=None)
    if among_accounts is not None:
        accounts = accounts.filter(pk__in=among_accounts)
    visible_accounts = accounts.filter(account_q).values("pk")
    scope = owner_scope(membership)
    owner_q = Q() if scope is None else Q(owner_id__in=scope)
    return Q(account_id__in=visible_accounts) | (Q(account_id=None) & owner_q)


def contact_queryset(*, tenant: Tenant, membership: Membership, for_edit: bool = False) -> QuerySet[Contact]:
    qs = Contact.objects.filter(tenant=tenant, deleted_at=None)
    q = contact_visibility_q(membership, for_edit=for_edit)
    return qs if q is None else qs.filter(q)


def activity_visibility_q(membership: Membership) -> Q | None:
    """Activities the member may see: their own; those on a deal the member can see; and, when not on a deal,
    the team's and those on an account or lead the member can see. An activity on a deal the member cannot see
    stays hidden (the deal's name would show through it, and an invisible deal does not exist).

    Every activity read goes through this: the activity list and API, and the timelines of every page."""
    account_q = account_visibility_q(membership)
    if account_q is None:
        return None
    leads = lead_link()
    scope = owner_scope(membership) or {membership.user_id}
    visible_accounts = Account.objects.filter(deleted_at=None).filter(account_q).values("pk")
    lead_q = leads.visibility_q(membership)
    live_leads = leads.model._default_manager.filter(deleted_at=None)
    # A lead's calls stay with the lead when it changes hands (reassignment, the pool).
    visible_leads = (live_leads if lead_q is None else live_leads.filter(lead_q)).values("pk")
    deal_q = opportunity_visibility_q(membership)
    # Deleted deals count: deletion is not a visibility rule (their page still shows their timeline).
    visible_deals = Opportunity.objects.all() if deal_q is None else Opportunity.objects.filter(deal_q)
    return (
        Q(owner_id=membership.user_id)
        | Q(opportunity_id__in=visible_deals.values("pk"))
        | (
            Q(opportunity_id=None)
            & (Q(owner_id__in=scope) | Q(account_id__in=visible_accounts) | Q(lead_id__in=visible_leads))
        )
    )


def activity_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[Activity]:
    qs = Activity.objects.filter(tenant=tenant, deleted_at=None)
    q = activity_visibility_q(membership)
    return qs if q is None else qs.filter(q)


def can_edit_account(*, tenant: Tenant, membership: Membership, account: Account) -> bool:
    return (
        account_queryset(tenant=tenant, membership=membership, for_edit=True).filter(pk=account.pk).exists()
    )


def can_edit_contact(*, tenant: Tenant, membership: Membership, contact: Contact) -> bool:
    return (
        contact_queryset(tenant=tenant, membership=membership, for_edit=True).filter(pk=contact.pk).exists()
    )


def can_manage_rates(membership: Membership) -> bool:
    return membership.role == Role.ADMIN


def can_merge(membership: Membership) -> bool:
    """Merging rewrites other people's records: admins, managers and cs (their customers)."""
    return membership.role in {Role.ADMIN, Role.SALES_MANAGER, Role.CS}


def _with_can_edit(qs: QuerySet, membership: Membership, model: type[models.Model]) -> QuerySet:
    """Annotate `can_edit` in the same query (no extra round trip on detail pages)."""
    if model is Account:
        q = account_visibility_q(membership, for_edit=True)
    else:
        q = contact_visibility_q(membership, for_edit=True)
    if q is None:
        return qs.annotate(can_edit=models.Value(True, output_field=models.BooleanField()))
    return qs.annotate(can_edit=models.ExpressionWrapper(q, output_field=models.BooleanField()))


def _with_parent_visible(qs: QuerySet[Account], membership: Membership) -> QuerySet[Account]:
    """Annotate `parent_visible`: pages and API name the parent account only when the member may see it."""
    q = account_visibility_q(membership)
    if q is None:
        return qs.annotate(parent_visible=models.Value(True, output_field=models.BooleanField()))
    visible = Account.objects.filter(deleted_at=None).filter(q).values("pk")
    return qs.annotate(
        parent_visible=models.ExpressionWrapper(Q(parent_id__in=visible), output_field=models.BooleanField())
    )


def member_scope(membership: Membership) -> set[int] | None:
    """crm.visibility.owner_scope, computed once per request (a manager's team is a query)."""
    cached = getattr(membership, "_deal_owner_scope", False)
    if cached is False:
        cached = owner_scope(membership)
        membership._deal_owner_scope = cached  # type: ignore[attr-defined]
    # The cache attribute is untyped; it only ever holds what owner_scope returned.
    return cast("set[int] | None", cached)


def opportunity_visibility_q(membership: Membership) -> Q | None:
    """The Q of deals the member may see; None = all."""
    role = membership.role
    if role in (Role.ADMIN, Role.OPS):
        return None
    if role == Role.CS:
        return Q(type=OpportunityType.RENEWAL) | Q(account__lifecycle_stage__in=CUSTOMER_STAGES)
    scope = member_scope(membership)
    visible = Q(owner_id__in=sorted(scope or {membership.user_id}))
    if role == Role.SALES_REP:
        shared = AccountMember.objects.filter(tenant_id=membership.tenant_id, user_id=membership.user_id)
        visible |= Q(account_id__in=shared.values("account_id"))
    return visible


@dataclass
class DealAccess:
    """Per-request edit rights, computed once (a manager's team is one query, not one per row)."""

    membership: Membership
    team_ids: set[int] | None = field(default=None)

    def __post_init__(self) -> None:
        if self.membership.role == Role.SALES_MANAGER:
            self.team_ids = member_scope(self.membership)

    @property
    def can_create(self) -> bool:
        return self.membership.role in (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.CS)

    @property
    def is_admin(self) -> bool:
        return self.membership.role == Role.ADMIN

    def can_edit(self, opportunity: Opportunity) -> bool:
        role = self.membership.role
        if role == Role.ADMIN:
            return True
        if role == Role.CS:
            return opportunity.type == OpportunityType.RENEWAL
        if role == Role.SALES_MANAGER:
            return opportunity.owner_id is None or opportunity.owner_id in (self.team_ids or set())
        if role == Role.SALES_REP:
            return opportunity.owner_id == self.membership.user_id
        return False
