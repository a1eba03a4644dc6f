"""Renewals: the renewal deal created ahead of a subscription's end, the next term a won renewal proposes, the
churn reason a lost one records, and the bulk hand-over of renewal deals.

Term length in months (`term_months`), used for the renewal amount and the proposed next term: the number of
calendar months from the start date to the end date, rounded to the nearest whole month. Whole months are
counted by stepping the start date a month at a time (the day clamped to the month's end: Jan 31 -> Feb 28); the
days left over count as one more month when they are at least half of the next month's length. A term is at least
one month. Examples: 2025-01-01..2026-01-01 = 12, 2025-01-15..2025-04-14 = 3 (2 months + 30 of 31 days),
2025-01-01..2025-01-10 = 1, 2025-01-01..2025-02-14 = 1 (13 of 28 days).
"""

from __future__ import annotations

import calendar
import datetime
import logging
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import transaction
from django.db.models import Exists, OuterRef, QuerySet
from django.utils.translation import gettext as _

from accounts.models import Opportunity, OpportunityType, StageKind
from accounts.services.opportunities import opportunity_create, opportunity_update
from crm.dates import tenant_today
from crm.history import history_actor
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.tenancy import tenant_context
from crm.visibility import team_user_ids
from lifecycle.models import Subscription
from lifecycle.services.settings import lifecycle_settings_get
from lifecycle.services.subscriptions import subscription_create

logger = logging.getLogger(__name__)
CENT = Decimal("0.01")


def add_months(day: datetime.date, months: int) -> datetime.date:
    """`day` moved by whole calendar months, the day clamped to the target month's length."""
    index = day.year * 12 + day.month - 1 + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return datetime.date(year, month + 1, min(day.day, last))


def term_months(start: datetime.date, end: datetime.date) -> int:
    """The term's length in whole months, rounded (see the module docstring); at least 1."""
    whole = max((end.year - start.year) * 12 + end.month - start.month + 1, 0)
    while whole > 0 and add_months(start, whole) > end:
        whole -= 1
    step = add_months(start, whole)
    left = (end - step).days
    next_length = (add_months(start, whole + 1) - step).days
    if left * 2 >= next_length and left > 0:
        whole += 1
    return max(whole, 1)


def renewal_amount(subscription: Subscription) -> Decimal:
    """The ending term's MRR × its length in months (an open-ended subscription has no renewal: 0)."""
    if subscription.end_date is None:
        return Decimal("0")
    months = term_months(subscription.start_date, subscription.end_date)
    return (subscription.mrr * months).quantize(CENT, ROUND_HALF_UP)


# --- renewal deals ----------------------------------------------------------------------------------------------


def renewals_due_for_deals(*, tenant: Tenant, today: datetime.date, lead_days: int) -> QuerySet[Subscription]:
    """Live, ending subscriptions of live accounts whose end date is today or within `lead_days` and that have no
    renewal deal and no successor yet."""
    successors = Subscription.objects.filter(
        tenant=tenant, renews_from_id=OuterRef("pk"), deleted_at__isnull=True
    )
    return Subscription.objects.filter(
        tenant=tenant,
        deleted_at__isnull=True,
        account__deleted_at__isnull=True,
        renewal_opportunity__isnull=True,
        end_date__gte=today,
        end_date__lte=today + datetime.timedelta(days=lead_days),
    ).exclude(Exists(successors))


def subscription_create_renewal_deal(*, tenant: Tenant, subscription_id: int) -> Opportunity | None:
    """Create the renewal deal of one subscription unless it has one: type renewal, the default pipeline's first
    open stage, amount = MRR × term months, expected close = end date, owned by the account owner, linked to the
    subscription. Exactly once: the subscription row is locked and re-checked, and a unique constraint backs it."""
    with transaction.atomic():
        subscription = (
            Subscription.objects.select_for_update(of=("self",))
            .select_related("account", "account__owner")
            .filter(tenant=tenant, pk=subscription_id, deleted_at__isnull=True)
            .first()
        )
        if subscription is None or subscription.renewal_opportunity_id is not None:
            return None
        if subscription.end_date is None:
            return None
        account = subscription.account
        owner = account.owner
        if (
            owner is not None
            and not Membership.objects.filter(
                tenant=tenant, user=owner, status=MembershipStatus.ACTIVE
            ).exists()
        ):
            owner = None
        name = _("Renewal: %(account)s – %(plan)s") % {
            "account": account.name,
            "plan": subscription.plan or _("subscription"),
        }
        deal = opportunity_create(
            tenant=tenant,
            actor=None,
            account=account,
            name=name[:200],
            amount=renewal_amount(subscription),
            currency=subscription.currency,
            type=OpportunityType.RENEWAL,
            expected_close_date=subscription.end_date,
            owner=owner,
        )
        # The link is the system's bookkeeping, not a user's edit: it does not move `version` (an open edit form
        # would otherwise conflict with a change the user cannot see).
        linked = Subscription.objects.filter(
            tenant=tenant, pk=subscription.pk, renewal_opportunity__isnull=True
        ).update(renewal_opportunity=deal)
        if not linked:  # a guard only: the row lock above already serialises the runs
            transaction.set_rollback(True)
            return None
        return deal


def renewals_create_due(*, tenant: Tenant, today: datetime.date | None = None) -> int:
    """Create the renewal deals due today (renewal_lead_days before the end date). Idempotent; each subscription
    in its own savepoint, so one refused deal (e.g. a pipeline without an open stage) does not stop the others.
    Returns the number of deals created."""
    settings = lifecycle_settings_get(tenant=tenant)
    today = today or tenant_today(tenant)
    ids = list(
        renewals_due_for_deals(tenant=tenant, today=today, lead_days=settings.renewal_lead_days)
        .order_by("end_date", "pk")
        .values_list("pk", flat=True)
    )
    created = 0
    for subscription_id in ids:
        try:
            if subscription_create_renewal_deal(tenant=tenant, subscription_id=subscription_id):
                created += 1
        except (ValidationError, PermissionDenied):
            logger.warning(
                "tenant %s: no renewal deal for subscription %s", tenant.pk, subscription_id, exc_info=True
            )
    return created


# --- won: the next term; lost: the churn reason ------------------------------------------------------------------


@dataclass(frozen=True)
class NextTerm:
    """The term a won renewal proposes (the form's initial values)."""

    subscription: Subscription
    plan: str
    mrr: Decimal
    currency: str
    start_date: datetime.date
    end_date: datetime.date


def next_term_proposal(subscription: Subscription) -> NextTerm | None:
    """For a subscription whose renewal deal is won and that has no successor: plan, MRR = deal amount / months,
    start = the old end date, end = start + the same number of months. None otherwise. Needs
    `renewal_opportunity__stage` loaded and a `has_successor` annotation (or it asks the database)."""
    deal = subscription.renewal_opportunity
    if deal is None or subscription.end_date is None or deal.deleted_at is not None:
        return None
    if deal.stage.kind != StageKind.WON:
        return None
    has_successor = getattr(subscription, "has_successor", None)
    if has_successor is None:
        has_successor = subscription.renewals.filter(deleted_at__isnull=True).exists()
    if has_successor:
        return None
    months = term_months(subscription.start_date, subscription.end_date)
    start = subscription.end_date
    return NextTerm(
        subscription=subscription,
        plan=subscription.plan,
        mrr=(deal.amount / months).quantize(CENT, ROUND_HALF_UP),
        currency=deal.currency,
        start_date=start,
        end_date=add_months(start, months),
    )


@transaction.atomic
def subscription_accept_next_term(
    *,
    tenant: Tenant,
    actor: User | None,
    subscription: Subscription,
    plan: str,
    mrr: Decimal | str,
    currency: str,
    start_date: datetime.date | str,
    end_date: datetime.date | str | None,
) -> Subscription:
    """Create the next term of `subscription` (renews_from it). Once: a second accept (another tab, a double
    click) finds the successor under the row lock and is refused. Side effects: those of subscription_create."""
    locked = (
        Subscription.objects.select_for_update()
        .filter(tenant=tenant, pk=subscription.pk, deleted_at__isnull=True)
        .first()
    )
    if locked is None:
        raise Subscription.DoesNotExist
    if locked.renewals.filter(deleted_at__isnull=True).exists():
        raise ValidationError(_("The next term of this subscription has already been created."))
    return subscription_create(
        tenant=tenant,
        actor=actor,
        account=locked.account,
        plan=plan,
        mrr=mrr,
        currency=currency,
        start_date=start_date,
        end_date=end_date,
        renews_from=locked,
    )


def on_deal_stage_changed(
    sender: Any, tenant: Tenant, opportunity: Opportunity, from_stage: Any, to_stage: Any, **kwargs: Any
) -> None:
    """accounts' opportunity_stage_changed (sent after commit): a renewal deal lost records its lost reason as the
    churn reason of the subscription it renews; reopened, the reason it recorded is taken back."""
    if opportunity.type != OpportunityType.RENEWAL:
        return
    lost_now = to_stage is not None and to_stage.kind == StageKind.LOST
    was_lost = from_stage is not None and from_stage.kind == StageKind.LOST
    if not lost_now and not was_lost:
        return
    with tenant_context(tenant):
        deal = Opportunity.objects.filter(tenant=tenant, pk=opportunity.pk).only("lost_reason").first()
        if deal is None:
            return
        renewed = Subscription.objects.filter(tenant=tenant, renewal_opportunity_id=deal.pk)
        with history_actor(kwargs.get("actor")):
            if lost_now:
                reason = deal.lost_reason or _("Renewal deal lost")
                renewed.update(churn_reason=reason)
            else:
                renewed.exclude(churn_reason="").update(churn_reason="")


# --- bulk assign ---------------------------------------------------------------------------------------------------


def renewal_assignable_owners(*, tenant: Tenant, membership: Membership) -> QuerySet[Membership]:
    """Whom the member may give renewal deals to: admins and cs anyone active; managers their team."""
    qs = Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE).select_related("user")
    if membership.role in (Role.ADMIN, Role.CS):
        return qs.order_by("user__full_name", "user__email")
    if membership.role == Role.SALES_MANAGER:
        return qs.filter(user_id__in=team_user_ids(membership)).order_by("user__full_name", "user__email")
    return qs.none()


@transaction.atomic
def renewal_deals_assign(
    *, tenant: Tenant, actor: User, membership: Membership, opportunities: list[Opportunity], owner: User
) -> int:
    """Give these renewal deals to `owner` through the deal service (each deal's own rules apply: a deal the
    member may not edit is refused, and nothing is changed). Returns the number of deals that changed owner."""
    if not renewal_assignable_owners(tenant=tenant, membership=membership).filter(user=owner).exists():
        raise ValidationError({"owner": _("You cannot give renewal deals to this person.")})
    changed = 0
    for deal in opportunities:
        if deal.tenant_id != tenant.pk or deal.type != OpportunityType.RENEWAL:
            raise Opportunity.DoesNotExist
        if deal.owner_id == owner.pk:
            continue
        opportunity_update(tenant=tenant, actor=actor, opportunity=deal, version=None, owner=owner)
        changed += 1
    return changed
