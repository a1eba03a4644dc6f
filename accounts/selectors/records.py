"""Reads of the records area: accounts, contacts, activities and tasks, exchange rates, merges, history.

Role visibility (DESIGN.md "Roles and visibility") is written once here, in `account_visibility_q` and
`contact_visibility_q`, and every list, detail, search, count and form choice goes through them:

- admin, ops: every account;
- sales_manager: accounts owned by their team (crm.visibility.owner_scope) or that their team works on;
- sales_rep: accounts they own or work on (AccountMember row, owning a deal or an activity on it) and accounts
  shared read-only with them (AccountMember access=read: visible, not editable);
- cs: every customer account (lifecycle stage conversion, retention or churn), editable, and their own.

Contacts follow their account; a contact without an account follows the owner rule.
"""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import models
from django.db.models import Count, Exists, OuterRef, Q, QuerySet, Sum, Window
from django.db.models.functions import Coalesce, Greatest, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

from accounts.links import lead_link
from accounts.models import (
    Account,
    AccountAccess,
    AccountMember,
    Activity,
    ActivityKind,
    Contact,
    ExchangeRate,
    LifecycleStageName,
    MergeEntity,
    MergeRecord,
    Opportunity,
    StageKind,
)
from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.visibility import owner_scope

CUSTOMER_STAGES = (LifecycleStageName.CONVERSION, LifecycleStageName.RETENTION, LifecycleStageName.CHURN)
LIST_COUNT_CAP = 1000
# Trigram (word) similarity from which two company names count as a possible duplicate.
DUPLICATE_THRESHOLD = 0.72

# --- Visibility -------------------------------------------------------------------------------------------------


def _works_on_q(user_ids: set[int] | None, *, for_edit: bool) -> Q:
    """Accounts the given users work on: account team rows, and (for reading) owning a deal or an activity.

    Logging an activity never grants edit rights, so a read-only share cannot be widened by logging a call.
    """
    members = AccountMember.objects.filter(account_id=OuterRef("pk"), user_id__in=user_ids)
    if for_edit:
        members = members.filter(access=AccountAccess.EDIT)
    q = Q(Exists(members)) | Q(
        Exists(Opportunity.objects.filter(account_id=OuterRef("pk"), owner_id__in=user_ids, deleted_at=None))
    )
    if not for_edit:
        q |= Q(Exists(Activity.objects.filter(account_id=OuterRef("pk"), owner_id__in=user_ids)))
    return q


def account_visibility_q(membership: Membership, *, for_edit: bool = False) -> Q | None:
    """The accounts `membership` may see (or edit): None means all of them; Q() with no match means none."""
    role = membership.role
    if role == Role.ADMIN:
        return None
    if role == Role.OPS:
        return None if not for_edit else Q(pk__in=[])
    if role == Role.CS:
        own = {membership.user_id}
        return (
            Q(lifecycle_stage__in=CUSTOMER_STAGES)
            | Q(owner_id=membership.user_id)
            | _works_on_q(own, for_edit=True)
        )
    user_ids = owner_scope(membership) or {membership.user_id}
    return Q(owner_id__in=user_ids) | _works_on_q(user_ids, for_edit=for_edit)


def account_queryset(*, tenant: Tenant, membership: Membership, for_edit: bool = False) -> QuerySet[Account]:
    """Live (not deleted) accounts visible to (or editable by) the member. The base of every account read."""
    qs = Account.objects.filter(tenant=tenant, deleted_at=None)
    q = account_visibility_q(membership, for_edit=for_edit)
    return qs if q is None else qs.filter(q)


def contact_visibility_q(membership: Membership, *, for_edit: bool = False) -> Q | None:
    account_q = account_visibility_q(membership, for_edit=for_edit)
    if account_q is None:
        return None
    if membership.role == Role.OPS and for_edit:
        return Q(pk__in=[])
    visible_accounts = Account.objects.filter(deleted_at=None).filter(account_q).values("pk")
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
    from accounts.selectors.deals import opportunity_visibility_q

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


# --- Accounts ---------------------------------------------------------------------------------------------------


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


def account_list(*, tenant: Tenant, membership: Membership, filters: dict | None = None) -> QuerySet[Account]:
    """Visible accounts with their owner and parent; `filters` (a query dict) goes through AccountFilterSet."""
    qs = account_queryset(tenant=tenant, membership=membership).select_related("owner", "parent")
    qs = _with_parent_visible(qs, membership)
    if filters:
        from accounts.filters_records import AccountFilterSet

        filterset = AccountFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset.qs if filterset.is_valid() else qs.none()
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
    from accounts.selectors.deals import MONEY, opportunity_base

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
    from accounts.selectors.deals import opportunity_base

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


def account_duplicates(
    *,
    tenant: Tenant,
    name: str,
    domain: str = "",
    exclude_id: int | None = None,
    membership: Membership | None = None,
    limit: int = 8,
) -> list[Account]:
    """Live accounts that look like the same company, best match first. Each carries `similarity` (0..1) and
    `same_domain`.

    Match: the same domain, or the normalized name (legal suffixes dropped, upper-cased) against upper(name) —
    candidates through the GIN trigram index (`%`, `%>` and, for names of 3+ characters, LIKE), kept when the
    trigram similarity or word similarity reaches DUPLICATE_THRESHOLD or the name contains the typed core
    (Chinese names have no word boundaries: "华信科技" in "上海华信科技有限公司").
    With `membership`, only accounts that member may see (pages and API pass it: an invisible record is never
    revealed); without, all of the tenant's (imports, lead conversion)."""
    from accounts.services.records import normalize_company_name, normalize_domain

    core = normalize_company_name(name).upper()
    domain = normalize_domain(domain)
    use_name = len(core) >= 2
    if not use_name and not domain:
        return []
    qs = Account.objects.filter(tenant=tenant, deleted_at=None).alias(uname=Upper("name"))
    candidates = Q(pk__in=[])
    keep = Q(pk__in=[])
    if use_name:
        candidates |= Q(uname__trigram_similar=core) | Q(uname__trigram_word_similar=core)
        keep |= Q(score__gte=DUPLICATE_THRESHOLD)
        if len(core) >= 3:
            candidates |= Q(uname__contains=core)
            keep |= Q(uname__contains=core)
        qs = qs.alias(
            score=Greatest(TrigramSimilarity(Upper("name"), core), TrigramWordSimilarity(core, Upper("name")))
        )
    if domain:
        candidates |= Q(domain=domain)
        keep |= Q(domain=domain)
    qs = qs.filter(candidates).filter(keep)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    visible = account_visibility_q(membership) if membership is not None else None
    if visible is not None:
        qs = qs.filter(visible)
    qs = qs.annotate(
        similarity=models.F("score") if use_name else models.Value(0.0, output_field=models.FloatField()),
        same_domain=models.ExpressionWrapper(
            Q(domain=domain) if domain else Q(pk__in=[]), output_field=models.BooleanField()
        ),
    )
    return list(qs.select_related("owner").order_by("-same_domain", "-similarity", "name", "pk")[:limit])


def account_deleted_get(*, tenant: Tenant, membership: Membership, pk: Any) -> Account | None:
    """A soft-deleted (not merged) account the member could edit, for the Undo banner and restore."""
    if not str(pk).isdecimal():
        return None
    qs = Account.objects.filter(tenant=tenant, pk=int(pk), merged_into=None).exclude(deleted_at=None)
    q = account_visibility_q(membership, for_edit=True)
    return (qs if q is None else qs.filter(q)).first()


# --- Contacts ---------------------------------------------------------------------------------------------------


def contact_list(*, tenant: Tenant, membership: Membership, filters: dict | None = None) -> QuerySet[Contact]:
    qs = contact_queryset(tenant=tenant, membership=membership).select_related("account", "owner")
    if filters:
        from accounts.filters_records import ContactFilterSet

        filterset = ContactFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs


def contact_get(*, tenant: Tenant, membership: Membership, pk: int, for_edit: bool = False) -> Contact:
    qs = contact_queryset(tenant=tenant, membership=membership, for_edit=for_edit).select_related(
        "account", "owner"
    )
    return _with_can_edit(qs, membership, Contact).get(pk=pk)


def contact_deleted_get(*, tenant: Tenant, membership: Membership, pk: Any) -> Contact | None:
    if not str(pk).isdecimal():
        return None
    qs = Contact.objects.filter(tenant=tenant, pk=int(pk), merged_into=None).exclude(deleted_at=None)
    q = contact_visibility_q(membership, for_edit=True)
    return (qs if q is None else qs.filter(q)).first()


def contact_opportunities(*, tenant: Tenant, membership: Membership, contact: Contact) -> list[Opportunity]:
    """Deals the contact has a role on that the member may see (the contact page's deal list)."""
    from accounts.selectors.deals import opportunity_base

    return list(
        opportunity_base(tenant=tenant, membership=membership)
        .filter(contact_roles__contact=contact)
        .select_related("stage", "account")
        .order_by("-created_at", "-pk")[:50]
    )


def contact_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Contact]:
    return contact_queryset(tenant=tenant, membership=membership).order_by("last_name", "first_name", "pk")


def contact_duplicates(
    *,
    tenant: Tenant,
    email: str = "",
    phone: str = "",
    exclude_id: int | None = None,
    membership: Membership | None = None,
    limit: int = 10,
) -> list[Contact]:
    """Live contacts with the same email (case-insensitive) or the same phone digits (search_text holds the
    digits, behind the trigram index). Each carries `same_email` / `same_phone`. `membership` limits the
    result to contacts that member may see."""
    from accounts.services.records import phone_digits

    email = (email or "").strip().lower()
    digits = phone_digits(phone)
    q = Q(pk__in=[])
    if email:
        q |= Q(email=email)
    if len(digits) >= 6:
        q |= Q(search_text__contains=digits)
    if not email and len(digits) < 6:
        return []
    qs = Contact.objects.filter(tenant=tenant, deleted_at=None).filter(q)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    visible = contact_visibility_q(membership) if membership is not None else None
    if visible is not None:
        qs = qs.filter(visible)
    found = list(qs.select_related("account", "owner").order_by("last_name", "first_name", "pk")[: limit * 3])
    result = []
    for contact in found:
        contact.same_email = bool(email) and contact.email.lower() == email
        contact.same_phone = len(digits) >= 6 and phone_digits(contact.phone) == digits
        if contact.same_email or contact.same_phone:
            result.append(contact)
    return result[:limit]


# --- Activities and tasks ---------------------------------------------------------------------------------------


def activity_get(*, tenant: Tenant, membership: Membership, pk: int) -> Activity:
    return (
        activity_queryset(tenant=tenant, membership=membership)
        .select_related("owner", "account", "contact", "opportunity", "lead")
        .get(pk=pk)
    )


def activity_list(
    *, tenant: Tenant, membership: Membership, filters: dict | None = None
) -> QuerySet[Activity]:
    qs = activity_queryset(tenant=tenant, membership=membership).select_related(
        "owner", "account", "contact", "opportunity", "lead"
    )
    if filters:
        from accounts.filters_records import ActivityFilterSet

        filterset = ActivityFilterSet(filters, queryset=qs, tenant=tenant, membership=membership)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs


@dataclass
class TaskBuckets:
    overdue: list[Activity]
    today: list[Activity]
    upcoming: list[Activity]
    no_date: list[Activity]
    later: list[Activity] = field(default_factory=list)  # due after the 30 upcoming days


def _local_day_bounds(tenant: Tenant, now: datetime.datetime | None = None) -> tuple:
    now = now or timezone.now()
    local = timezone.localtime(now, tenant.tzinfo)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def task_buckets(
    *, tenant: Tenant, membership: Membership, now: datetime.datetime | None = None, limit: int = 100
) -> TaskBuckets:
    """The member's open tasks: overdue (due before today, tenant time zone), today, upcoming (next 30 days),
    later and undated. Four bounded queries on the (tenant, owner, done, due_at) index (upcoming and later are
    one query, split at the 30 days: together at most `limit`)."""
    start, end = _local_day_bounds(tenant, now)
    base = Activity.objects.filter(
        tenant=tenant, owner_id=membership.user_id, kind=ActivityKind.TASK, done=False, deleted_at=None
    ).select_related("account", "contact", "opportunity", "lead")
    horizon = end + datetime.timedelta(days=30)
    ahead = list(base.filter(due_at__gte=end).order_by("due_at", "pk")[:limit])
    return TaskBuckets(
        overdue=list(base.filter(due_at__lt=start).order_by("due_at", "pk")[:limit]),
        today=list(base.filter(due_at__gte=start, due_at__lt=end).order_by("due_at", "pk")[:limit]),
        upcoming=[task for task in ahead if task.due_at < horizon],
        no_date=list(base.filter(due_at=None).order_by("-created_at", "-pk")[:limit]),
        later=[task for task in ahead if task.due_at >= horizon],
    )


# --- Money ------------------------------------------------------------------------------------------------------


def exchange_rate_list(*, tenant: Tenant, filters: dict | None = None) -> QuerySet[ExchangeRate]:
    qs = ExchangeRate.objects.filter(tenant=tenant).order_by("currency", "-valid_from", "pk")
    if filters:
        from accounts.filters_records import ExchangeRateFilterSet

        filterset = ExchangeRateFilterSet(filters, queryset=qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs


def exchange_rates_current(*, tenant: Tenant) -> list[ExchangeRate]:
    """The rate in force today for each currency (one query: DISTINCT ON currency)."""
    from accounts.services.records import _tenant_today

    return list(
        ExchangeRate.objects.filter(tenant=tenant, valid_from__lte=_tenant_today(tenant))
        .order_by("currency", "-valid_from")
        .distinct("currency")
    )


def exchange_rate_get(*, tenant: Tenant, pk: int) -> ExchangeRate:
    return ExchangeRate.objects.get(tenant=tenant, pk=pk)


# --- Merges -----------------------------------------------------------------------------------------------------


def merge_record_get(*, tenant: Tenant, pk: int, entity: str | None = None) -> MergeRecord:
    qs = MergeRecord.objects.filter(tenant=tenant).select_related("actor")
    if entity:
        qs = qs.filter(entity=entity)
    return qs.get(pk=pk)


def merge_record_for_banner(*, tenant: Tenant, pk: Any, entity: str, survivor_id: int) -> MergeRecord | None:
    """The merge just made, for the "Merged. Undo" banner on the survivor's page."""
    if not str(pk).isdecimal():
        return None
    return MergeRecord.objects.filter(
        tenant=tenant, pk=int(pk), entity=entity, survivor_id=survivor_id, undone_at=None
    ).first()


def merges_into(*, tenant: Tenant, entity: str, survivor_id: int) -> list[MergeRecord]:
    return list(
        MergeRecord.objects.filter(tenant=tenant, entity=entity, survivor_id=survivor_id, undone_at=None)
        .select_related("actor")
        .order_by("-created_at")
    )


# --- History and timeline ---------------------------------------------------------------------------------------

ACTIONS = {"insert": "created", "update": "updated", "delete": "deleted"}
ACTION_LABELS = {
    "created": _("created"),
    "updated": _("updated"),
    "deleted": _("deleted"),
    "restored": _("restored"),
    "merged": _("merged"),
}
# Bookkeeping columns that are not a change a person made.
# Derived columns: "last activity at" repeats the activity already on the timeline.
HISTORY_IGNORED = {
    "id",
    "tenant",
    "created_at",
    "updated_at",
    "version",
    "search_text",
    "amount_reporting",
    "last_activity_at",
}
# History labels of tracked fields whose model field has no translated verbose_name (adding one needs a
# migration); the English text is the verbose_name itself, every other field shows its verbose_name.
HISTORY_FIELD_LABELS = {
    "owner": _("owner"),
    "parent": pgettext_lazy("account field", "parent"),
    "account": _("account"),
    "contact": _("contact"),
    "lead": _("lead"),
    "opportunity": _("opportunity"),
    "pipeline": _("pipeline"),
    "stage": _("stage"),
    "source": pgettext_lazy("lead field", "source"),
    "campaign": _("campaign"),
    "territory": _("territory"),
    "score_reasons": _("score reasons"),
    "merged_into": _("merged into"),
    "deleted_at": _("deleted at"),
    "working_at": _("working at"),
    "mql_at": _("mql at"),
    "sql_at": _("sql at"),
    "converted_at": _("converted at"),
    "disqualified_at": _("disqualified at"),
    "last_activity_at": _("last activity at"),
    "pooled_at": _("pooled at"),
    "claimed_at": _("claimed at"),
    "assigned_at": _("assigned at"),
    "converted_account": _("converted account"),
    "converted_contact": _("converted contact"),
    "converted_opportunity": _("converted opportunity"),
}
MERGE_ENTITY_OF: dict[type[models.Model], str] = {Account: MergeEntity.ACCOUNT, Contact: MergeEntity.CONTACT}


@dataclass
class HistoryEntry:
    when: datetime.datetime
    who: User | None
    action: str  # created | updated | deleted | restored
    changes: list[tuple[str, Any, Any]] = field(default_factory=list)
    object_id: int | None = None
    event_id: int = 0

    @property
    def action_label(self) -> str:
        return str(ACTION_LABELS.get(self.action, self.action))

    @property
    def kind(self) -> str:
        return "history"


def _event_model(model: type[models.Model]) -> type[Any] | None:
    """The event model django-pghistory generates for a tracked model (None when it is not tracked). Its
    columns are copied from the tracked model at run time, so no static type knows them: typed as Any."""
    try:
        return apps.get_model(model._meta.app_label, f"{model._meta.object_name}Event")
    except LookupError:
        return None


def _tracked_fields(model: type[models.Model], event_model: type[models.Model]) -> list[models.Field]:
    event_names = {f.attname for f in event_model._meta.concrete_fields}
    return [
        f for f in model._meta.concrete_fields if f.attname in event_names and f.name not in HISTORY_IGNORED
    ]


def _display(field_obj: models.Field, value: Any, objects: dict) -> Any:
    if value is None or value == "":
        return None
    if field_obj.is_relation:
        related = objects.get((field_obj.related_model, value))
        return _label(related) if related is not None else f"#{value}"
    if field_obj.choices:
        return dict(field_obj.flatchoices).get(value, value)
    if isinstance(field_obj, models.BooleanField):
        return _("yes") if value else _("no")
    if isinstance(field_obj, models.JSONField):
        return _json_display(value)
    return value


def _json_display(value: Any) -> str | None:
    """JSON as a person reads it: score reasons as "rule +points · ...", other lists and objects as items."""
    if not value:
        return None
    if isinstance(value, list):
        parts = []
        for item in value:
            if isinstance(item, dict) and "rule" in item and "points" in item:
                parts.append(f"{item['rule']} {int(item['points']):+d}")
            elif isinstance(item, dict):
                parts.append(", ".join(f"{k}: {v}" for k, v in item.items()))
            else:
                parts.append(str(item))
        return " · ".join(parts)
    if isinstance(value, dict):
        return ", ".join(f"{k}: {v}" for k, v in value.items())
    return str(value)


def _label(obj: models.Model) -> str:
    return obj.display_name if isinstance(obj, User) else str(obj)


def _record_visibility_q(model: type[models.Model], membership: Membership | None) -> Q | None:
    """The role visibility of a record that history may name (None: all of them)."""
    if membership is None:
        return None
    if model is Account:
        return account_visibility_q(membership)
    if model is Contact:
        return contact_visibility_q(membership)
    if model is Opportunity:
        from accounts.selectors.deals import opportunity_visibility_q

        return opportunity_visibility_q(membership)
    leads = lead_link()
    if model is leads.model:
        return leads.visibility_q(membership)
    return None


def _resolve_objects(requests: dict[type[models.Model], set], membership: Membership | None = None) -> dict:
    """One query per related model: (model, pk) -> instance (deleted rows included: history names them). With
    `membership`, only the records that member may see: another one is shown like a missing one (its id)."""
    found: dict = {}
    for model, ids in requests.items():
        ids = {i for i in ids if i is not None}
        if not ids:
            continue
        qs = model._default_manager.filter(pk__in=ids)
        visible = _record_visibility_q(model, membership)
        if visible is not None:
            qs = qs.filter(visible)
        for obj in qs:
            found[(model, obj.pk)] = obj
    return found


def history_for(
    *, tenant: Tenant, obj: models.Model, limit: int | None = None, membership: Membership | None = None
) -> list[HistoryEntry]:
    """Every tracked change of `obj` (any model tracked by django-pghistory), oldest first: when, who (from the
    pghistory context's `user`), action and (field label, old, new) for each changed field, with foreign keys
    shown by name — one query for the events plus one per referenced model, whatever the number of events.
    Records merged into `obj` contribute their history too. `limit` keeps the newest entries.

    Pages and API pass `membership`: a referenced account, contact, deal or lead the member may not see is
    shown by its id, exactly like one that no longer exists."""
    model = type(obj)
    event_model = _event_model(model)
    if event_model is None:
        return []
    object_ids = [obj.pk]
    entity = MERGE_ENTITY_OF.get(model)
    if entity:
        object_ids += list(
            MergeRecord.objects.filter(
                tenant=tenant, entity=entity, survivor_id=obj.pk, undone_at=None
            ).values_list("merged_id", flat=True)
        )
    events = list(
        event_model.objects.filter(tenant_id=tenant.pk, pgh_obj_id__in=object_ids)
        .select_related("pgh_context")
        .order_by("pgh_obj_id", "pgh_id")
    )
    fields = _tracked_fields(model, event_model)
    lookups: dict[type[models.Model], set] = {User: set()}
    for f in fields:
        if f.is_relation and f.related_model is not None:
            lookups.setdefault(f.related_model, set()).update(getattr(e, f.attname) for e in events)
    for e in events:
        user_id = (e.pgh_context.metadata or {}).get("user") if e.pgh_context_id and e.pgh_context else None
        e.actor_id = user_id
        lookups[User].add(user_id)
    names = _resolve_objects(lookups, membership)

    entries: list[HistoryEntry] = []
    previous: dict[int, Any] = {}
    for e in events:
        prev = previous.get(e.pgh_obj_id)
        action = ACTIONS.get(e.pgh_label, e.pgh_label)
        changes = []
        if prev is not None and action == "updated":
            for f in fields:
                old, new = getattr(prev, f.attname), getattr(e, f.attname)
                if old != new:
                    label = HISTORY_FIELD_LABELS.get(f.name, f.verbose_name)
                    changes.append((str(label), _display(f, old, names), _display(f, new, names)))
            deleted_field = "deleted_at" in {f.name for f in fields}
            if deleted_field and prev.deleted_at is None and e.deleted_at is not None:
                action = "deleted"
            elif deleted_field and prev.deleted_at is not None and e.deleted_at is None:
                action = "restored"
            if not changes:
                previous[e.pgh_obj_id] = e
                continue
        previous[e.pgh_obj_id] = e
        when = e.pgh_created_at
        if action == "created" and getattr(e, "created_at", None):
            # Imports and bulk loads keep the record's historical creation time; show that, not the load time.
            when = min(when, e.created_at)
        entries.append(
            HistoryEntry(
                when=when,
                who=names.get((User, e.actor_id)),
                action=action,
                changes=changes,
                object_id=e.pgh_obj_id,
                event_id=e.pgh_id,
            )
        )
    entries.sort(key=lambda entry: entry.when)
    if limit is not None:
        entries = entries[-limit:]
    return entries


TIMELINE_PAGE_SIZE = 50
# Items at the same instant: activities before history entries, then the newer id first.
_TIMELINE_RANK = {"activity": 1, "history": 0}


@dataclass
class TimelineItem:
    kind: str  # "activity" | "history"
    when: datetime.datetime
    activity: Activity | None = None
    entry: HistoryEntry | None = None

    @property
    def sort_key(self) -> tuple[datetime.datetime, int, int]:
        """The timeline's order, newest first: (when, kind rank, id) descending; also the keyset of "Show more"."""
        ident = self.activity.pk if self.activity is not None else (self.entry.event_id if self.entry else 0)
        return (self.when, _TIMELINE_RANK[self.kind], ident)


class TimelinePage(list[TimelineItem]):
    """One page of a timeline (a list of TimelineItem, newest first) with what its "Show more" link needs: the
    record it belongs to (`target_kind` lead/account/contact/opportunity, `target_id`) and the cursor of the next
    page (None on the last one)."""

    def __init__(
        self,
        items: Iterable[TimelineItem] = (),
        *,
        target_kind: str = "",
        target_id: int | None = None,
        next_cursor: str | None = None,
    ) -> None:
        super().__init__(items)
        self.target_kind = target_kind
        self.target_id = target_id
        self.next_cursor = next_cursor


def timeline_cursor_encode(key: tuple[datetime.datetime, int, int]) -> str:
    when, rank, ident = key
    payload = json.dumps([when.isoformat(), rank, ident], separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def timeline_cursor_decode(cursor: str | None) -> tuple[datetime.datetime, int, int] | None:
    """The keyset of the last item shown; None when absent or malformed (the first page then)."""
    if not cursor:
        return None
    try:
        when, rank, ident = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        parsed = datetime.datetime.fromisoformat(when)
        if parsed.tzinfo is None or rank not in (0, 1):
            return None
        return parsed, int(rank), int(ident)
    except (ValueError, TypeError, UnicodeDecodeError, json.JSONDecodeError):
        return None


def timeline_for(
    *,
    tenant: Tenant,
    membership: Membership,
    lead: Any = None,
    account: Account | None = None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    limit: int = TIMELINE_PAGE_SIZE,
    cursor: str | None = None,
) -> TimelinePage:
    """Activities of the record that the member may see (activity_visibility_q) and its change history merged,
    newest first, at most `limit` items; `cursor` (the page's `next_cursor`) continues after the last item of
    the previous page, by time (keyset: no OFFSET).

    The record is the most specific one given (opportunity, contact, lead, account); the caller has checked that
    the member may see it. Two queries for activities and history plus the history's name look-ups, on every
    page."""
    targets = (("opportunity", opportunity), ("contact", contact), ("lead", lead), ("account", account))
    target_kind, target = next(((k, r) for k, r in targets if r is not None), ("", None))
    if target is None:
        return TimelinePage()
    after = timeline_cursor_decode(cursor)
    activities = activity_queryset(tenant=tenant, membership=membership).filter(**{target_kind: target})
    activities = activities.annotate(when=Coalesce("occurred_at", "due_at", "created_at"))
    if after is not None:
        when, rank, ident = after
        older = Q(when__lt=when)
        if rank == _TIMELINE_RANK["activity"]:
            older |= Q(when=when, pk__lt=ident)
        activities = activities.filter(older)
    activities = activities.select_related("owner", "contact", "opportunity", "account", "lead").order_by(
        "-when", "-pk"
    )[: limit + 1]
    items = [TimelineItem(kind="activity", when=a.when, activity=a) for a in activities]
    items += [
        TimelineItem(kind="history", when=entry.when, entry=entry)
        for entry in history_for(tenant=tenant, obj=target, membership=membership)
    ]
    if after is not None:
        items = [item for item in items if item.sort_key < after]
    items.sort(key=lambda item: item.sort_key, reverse=True)
    page = items[:limit]
    next_cursor = timeline_cursor_encode(page[-1].sort_key) if len(items) > limit else None
    return TimelinePage(page, target_kind=target_kind, target_id=target.pk, next_cursor=next_cursor)


def capped_count(qs: QuerySet, cap: int = LIST_COUNT_CAP) -> tuple[int, bool]:
    """How many rows, counting at most `cap` (a COUNT(*) over a million rows is not worth its cost):
    (count, more) where `more` says the real number is larger."""
    count = qs.order_by()[: cap + 1].count()
    return min(count, cap), count > cap


def members_for_choices(*, tenant: Tenant) -> QuerySet[User]:
    """Active members of the tenant (owner choices and filters)."""
    return (
        User.objects.filter(
            memberships__tenant=tenant, memberships__status=MembershipStatus.ACTIVE, is_active=True
        )
        .distinct()
        .order_by("full_name", "email")
    )
