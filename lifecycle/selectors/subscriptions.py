"""Reads of subscriptions and renewals, shared by the pages, the API and the exports.

Visibility (DESIGN.md "Roles and visibility"), written once in `subscription_account_q`:
- admin, ops: every account's subscriptions (ops read only);
- cs: the subscriptions of every customer account (lifecycle stage conversion, retention or churn) and of the
  accounts they own; they edit them, and renewal deals;
- sales_manager: the subscriptions of the accounts their team owns (read only);
- sales_rep: the subscriptions of the accounts they own (read only).
An invisible subscription behaves like a missing one (404).

Renewal of a term (used by the contract history and the renewals page): a subscription renews another when it
says so (`renews_from`), or, for data without that link (imports), when another subscription of the same account
starts after it did and within [its end − 90 days, its end + grace_days] (KPIS.md `renewal_rate`).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from decimal import Decimal

from django.db.models import BooleanField, Case, Exists, F, OuterRef, Q, QuerySet, Value, When
from django.utils.translation import gettext_lazy as _

from accounts.models import Account, LifecycleStageName
from crm.dates import tenant_today
from crm.models import Membership, Role, Tenant
from crm.visibility import team_user_ids
from lifecycle.models import Subscription
from lifecycle.services.settings import lifecycle_settings_get

CUSTOMER_STAGES = (LifecycleStageName.CONVERSION, LifecycleStageName.RETENTION, LifecycleStageName.CHURN)
EDITORS = frozenset({Role.ADMIN, Role.CS})
# How long before its end a later subscription still counts as the renewal of a term (KPIS.md renewal_rate).
RENEWAL_EARLY_DAYS = 90


def subscription_account_q(membership: Membership, prefix: str = "") -> Q | None:
    """The accounts whose subscriptions the member sees (None: all of them). With `prefix="account__"` the same
    condition on a subscription's account (a join, not a second read of the accounts)."""
    role = membership.role
    if role in (Role.ADMIN, Role.OPS):
        return None
    if role == Role.CS:
        return Q(**{f"{prefix}lifecycle_stage__in": CUSTOMER_STAGES}) | Q(
            **{f"{prefix}owner_id": membership.user_id}
        )
    if role == Role.SALES_MANAGER:
        return Q(**{f"{prefix}owner_id__in": team_user_ids(membership)})
    return Q(**{f"{prefix}owner_id": membership.user_id})


def subscriptions_visible_for(membership: Membership, account: Account) -> bool:
    """Whether the member sees `account`'s subscriptions (subscription_account_q for one loaded account, in
    Python; a manager's team is one query)."""
    role = membership.role
    if role in (Role.ADMIN, Role.OPS):
        return True
    if role == Role.CS:
        return account.lifecycle_stage in CUSTOMER_STAGES or account.owner_id == membership.user_id
    if role == Role.SALES_MANAGER:
        return account.owner_id in team_user_ids(membership)
    return account.owner_id == membership.user_id


def can_edit_subscriptions(membership: Membership) -> bool:
    """cs and admins write subscriptions (of the accounts they see); everyone else reads."""
    return membership.role in EDITORS


def subscription_accounts(*, tenant: Tenant, membership: Membership) -> QuerySet[Account]:
    """Live accounts whose subscriptions the member sees (the choices of forms and filters)."""
    qs = Account.objects.filter(tenant=tenant, deleted_at=None)
    q = subscription_account_q(membership)
    return qs if q is None else qs.filter(q)


def successor_exists(tenant: Tenant, grace_days: int) -> Exists:
    """Exists(a live subscription that renews the outer one): linked by renews_from, or implied (see above).

    The rule as a query. Reads use the stored `Subscription.renewed`, which the database keeps by the same rule
    (lifecycle/migrations/0004_subscription_renewed.py; tests/lifecycle/test_renewed_flag.py keeps them equal)."""
    implied = Q(
        account_id=OuterRef("account_id"),
        start_date__gt=OuterRef("start_date"),
        start_date__gte=OuterRef("end_date") - datetime.timedelta(days=RENEWAL_EARLY_DAYS),
        start_date__lte=OuterRef("end_date") + datetime.timedelta(days=grace_days),
    )
    return Exists(
        Subscription.objects.filter(tenant=tenant, deleted_at__isnull=True)
        .exclude(pk=OuterRef("pk"))
        .filter(Q(renews_from_id=OuterRef("pk")) | implied)
    )


def subscription_queryset(
    *, tenant: Tenant, membership: Membership, include_deleted: bool = False
) -> QuerySet[Subscription]:
    """Subscriptions of live accounts the member sees (the base of every subscription read)."""
    qs = Subscription.objects.filter(tenant=tenant, account__deleted_at=None)
    if not include_deleted:
        qs = qs.filter(deleted_at=None)
    # On the join to the account the query has anyway (one read of accounts: at 100,000 accounts a second one,
    # `account IN (visible accounts)`, cost the renewals page's counts as much again).
    q = subscription_account_q(membership, prefix="account__")
    return qs if q is None else qs.filter(q)


def subscription_list(*, tenant: Tenant, membership: Membership) -> QuerySet[Subscription]:
    """The list page's and the API's rows: account, its owner, the renewal deal with stage and owner in the same
    query, `has_successor` (the stored `renewed`) and `can_edit` annotated."""
    return (
        subscription_queryset(tenant=tenant, membership=membership)
        .select_related(
            "account",
            "account__owner",
            "renewal_opportunity",
            "renewal_opportunity__stage",
            "renewal_opportunity__owner",
        )
        .annotate(
            has_successor=F("renewed"),
            can_edit=Value(can_edit_subscriptions(membership), output_field=BooleanField()),
        )
    )


def subscription_get(
    *, tenant: Tenant, membership: Membership, pk: int | str, for_edit: bool = False
) -> Subscription:
    """One visible, live subscription; for_edit: only for those who may change it. Else DoesNotExist."""
    if for_edit and not can_edit_subscriptions(membership):
        raise Subscription.DoesNotExist
    try:
        return subscription_list(tenant=tenant, membership=membership).get(pk=int(pk))
    except (TypeError, ValueError) as exc:
        raise Subscription.DoesNotExist from exc


def subscription_deleted_get(*, tenant: Tenant, membership: Membership, pk: int | str) -> Subscription | None:
    """A soft-deleted subscription the member may restore (the undo banner), or None."""
    if not can_edit_subscriptions(membership) or not str(pk).isdecimal():
        return None
    return (
        subscription_queryset(tenant=tenant, membership=membership, include_deleted=True)
        .filter(pk=int(pk), deleted_at__isnull=False)
        .select_related("account")
        .first()
    )


def subscriptions_for_account(
    *, tenant: Tenant, membership: Membership, account: Account
) -> list[Subscription]:
    """The account's live subscriptions, newest first, for the account page (empty when the member may not see
    them). One query."""
    return list(
        subscription_list(tenant=tenant, membership=membership)
        .filter(account_id=account.pk)
        .order_by("-start_date", "-id")
    )


# --- contract history ---------------------------------------------------------------------------------------------


class ContractEvent:
    NEW = "new"
    RENEWAL = "renewal"
    EXPANSION = "expansion"
    CONTRACTION = "contraction"
    CHURN = "churn"


CONTRACT_EVENT_LABELS = {
    ContractEvent.NEW: _("New"),
    ContractEvent.RENEWAL: _("Renewal"),
    ContractEvent.EXPANSION: _("Expansion"),
    ContractEvent.CONTRACTION: _("Contraction"),
    ContractEvent.CHURN: _("Churn"),
}

CONTRACT_EVENT_BADGES = {
    ContractEvent.NEW: "text-bg-primary",
    ContractEvent.RENEWAL: "text-bg-secondary",
    ContractEvent.EXPANSION: "text-bg-success",
    ContractEvent.CONTRACTION: "text-bg-warning",
    ContractEvent.CHURN: "text-bg-danger",
}


@dataclass(frozen=True)
class ContractEntry:
    """One line of an account's contract history."""

    date: datetime.date
    kind: str
    subscription: Subscription
    mrr: Decimal
    previous_mrr: Decimal | None = None
    reason: str = ""

    @property
    def label(self) -> str:
        return str(CONTRACT_EVENT_LABELS[self.kind])

    @property
    def badge(self) -> str:
        """The Bootstrap badge colour of the kind."""
        return CONTRACT_EVENT_BADGES[self.kind]

    @property
    def mrr_change(self) -> Decimal | None:
        return None if self.previous_mrr is None else self.mrr - self.previous_mrr


def classify_contracts(
    subscriptions: list[Subscription], *, today: datetime.date, grace_days: int
) -> list[ContractEntry]:
    """The contract history of one account's subscriptions (any order), oldest first. Each subscription is new
    (renews nothing), a renewal, an expansion or a contraction (a renewal whose MRR is the same, higher or lower
    than the one it renews); a term that ended (end date <= today) with no successor adds a churn line."""
    terms = sorted(subscriptions, key=lambda s: (s.start_date, s.pk))
    by_id = {s.pk: s for s in terms}
    renews: dict[int, Subscription] = {}
    for sub in terms:
        if sub.renews_from_id and sub.renews_from_id in by_id:
            renews[sub.pk] = by_id[sub.renews_from_id]
    renewed = {previous.pk for previous in renews.values()}
    for sub in terms:
        if sub.pk in renews:
            continue
        for previous in terms:
            if previous.pk in renewed or previous.end_date is None or previous.pk == sub.pk:
                continue
            early = previous.end_date - datetime.timedelta(days=RENEWAL_EARLY_DAYS)
            late = previous.end_date + datetime.timedelta(days=grace_days)
            if previous.start_date < sub.start_date and early <= sub.start_date <= late:
                renews[sub.pk] = previous
                renewed.add(previous.pk)
                break
    entries: list[ContractEntry] = []
    for sub in terms:
        renewed_term = renews.get(sub.pk)
        if renewed_term is None:
            entries.append(ContractEntry(sub.start_date, ContractEvent.NEW, sub, sub.mrr))
        else:
            previous = renewed_term
            kind = (
                ContractEvent.EXPANSION
                if sub.mrr > previous.mrr
                else ContractEvent.CONTRACTION
                if sub.mrr < previous.mrr
                else ContractEvent.RENEWAL
            )
            entries.append(ContractEntry(sub.start_date, kind, sub, sub.mrr, previous_mrr=previous.mrr))
        if sub.end_date is not None and sub.end_date <= today and sub.pk not in renewed:
            entries.append(
                ContractEntry(
                    sub.end_date, ContractEvent.CHURN, sub, Decimal("0"), sub.mrr, reason=sub.churn_reason
                )
            )
    order = {ContractEvent.CHURN: 0}
    entries.sort(key=lambda e: (e.date, order.get(e.kind, 1), e.subscription.pk))
    return entries


def contract_history(*, tenant: Tenant, membership: Membership, account: Account) -> list[ContractEntry]:
    """The account's contract history (see classify_contracts), within the member's visibility. One query (and
    the settings)."""
    settings = lifecycle_settings_get(tenant=tenant)
    subscriptions = list(
        subscription_queryset(tenant=tenant, membership=membership).filter(account_id=account.pk)
    )
    return classify_contracts(subscriptions, today=tenant_today(tenant), grace_days=settings.grace_days)


def active_on(today: datetime.date, prefix: str = "") -> Q:
    """Subscriptions active on `today` and not deleted (KPIS.md: start <= d < end, or open-ended); with prefix
    "subscriptions__" the same condition on an account's subscriptions."""
    return Q(**{f"{prefix}deleted_at__isnull": True, f"{prefix}start_date__lte": today}) & (
        Q(**{f"{prefix}end_date__isnull": True}) | Q(**{f"{prefix}end_date__gt": today})
    )


def status_expression(today: datetime.date) -> Case:
    """active / future / ended on `today` (KPIS.md: active when start <= d < end), as SQL for filters and rows."""
    return Case(
        When(start_date__gt=today, then=Value("future")),
        When(Q(end_date__isnull=False) & Q(end_date__lte=today), then=Value("ended")),
        default=Value("active"),
    )
