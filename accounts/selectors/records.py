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

import datetime
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from django.apps import apps
from django.contrib.postgres.search import TrigramSimilarity, TrigramWordSimilarity
from django.db import models
from django.db.models import Exists, OuterRef, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest, Upper
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import pgettext_lazy

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
    """Activities: one's own (or the team's), and those on an account or contact the member can see."""
    account_q = account_visibility_q(membership)
    if account_q is None:
        return None
    scope = owner_scope(membership) or {membership.user_id}
    visible_accounts = Account.objects.filter(deleted_at=None).filter(account_q).values("pk")
    return Q(owner_id__in=scope) | Q(account_id__in=visible_accounts)


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


def account_list(*, tenant: Tenant, membership: Membership, filters: dict | None = None) -> QuerySet[Account]:
    """Visible accounts with their owner and parent; `filters` (a query dict) goes through AccountFilterSet."""
    qs = account_queryset(tenant=tenant, membership=membership).select_related("owner", "parent")
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
    return _with_can_edit(qs, membership, Account).get(pk=pk)


def account_choices(*, tenant: Tenant, membership: Membership) -> QuerySet[Account]:
    """Accounts offered in form choices (parent, a contact's account): the ones the member may see."""
    return account_queryset(tenant=tenant, membership=membership).only("pk", "name").order_by("name", "pk")


@dataclass
class AccountProfile:
    """Everything the account 360 page shows, read in a fixed number of queries."""

    account: Account
    owner_team: Any
    children: list[Account]
    contacts: list[Contact]
    opportunities: list[Opportunity]
    timeline: list
    members: list[AccountMember]
    open_pipeline: Decimal = Decimal(0)
    won_amount: Decimal = Decimal(0)


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
    contacts = list(
        Contact.objects.filter(tenant=tenant, account=account, deleted_at=None).order_by(
            "last_name", "first_name", "pk"
        )[:200]
    )
    opportunities = list(
        Opportunity.objects.filter(tenant=tenant, account=account, deleted_at=None)
        .select_related("stage", "owner")
        .order_by("-created_at", "-pk")[:100]
    )
    members = list(
        AccountMember.objects.filter(tenant=tenant, account=account).select_related("user").order_by("pk")
    )
    open_pipeline = sum(
        (o.amount_reporting for o in opportunities if o.stage.kind == "open"), start=Decimal(0)
    )
    won_amount = sum((o.amount_reporting for o in opportunities if o.stage.kind == "won"), start=Decimal(0))
    return AccountProfile(
        account=account,
        owner_team=owner_team,
        children=children,
        contacts=contacts,
        opportunities=opportunities,
        timeline=timeline_for(tenant=tenant, account=account),
        members=members,
        open_pipeline=open_pipeline,
        won_amount=won_amount,
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


def contact_opportunities(*, tenant: Tenant, contact: Contact) -> list[Opportunity]:
    """Deals the contact has a role on (the contact page's deal list)."""
    return list(
        Opportunity.objects.filter(tenant=tenant, contact_roles__contact=contact, deleted_at=None)
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


def _local_day_bounds(tenant: Tenant, now: datetime.datetime | None = None) -> tuple:
    now = now or timezone.now()
    local = timezone.localtime(now, tenant.tzinfo)
    start = local.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def task_buckets(
    *, tenant: Tenant, membership: Membership, now: datetime.datetime | None = None, limit: int = 100
) -> TaskBuckets:
    """The member's open tasks: overdue (due before today, tenant time zone), today, upcoming (next 30 days)
    and undated. Four bounded queries on the (tenant, owner, done, due_at) index."""
    start, end = _local_day_bounds(tenant, now)
    base = Activity.objects.filter(
        tenant=tenant, owner_id=membership.user_id, kind=ActivityKind.TASK, done=False, deleted_at=None
    ).select_related("account", "contact", "opportunity", "lead")
    return TaskBuckets(
        overdue=list(base.filter(due_at__lt=start).order_by("due_at", "pk")[:limit]),
        today=list(base.filter(due_at__gte=start, due_at__lt=end).order_by("due_at", "pk")[:limit]),
        upcoming=list(
            base.filter(due_at__gte=end, due_at__lt=end + datetime.timedelta(days=30)).order_by(
                "due_at", "pk"
            )[:limit]
        ),
        no_date=list(base.filter(due_at=None).order_by("-created_at", "-pk")[:limit]),
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


def _resolve_objects(requests: dict[type[models.Model], set]) -> dict:
    """One query per related model: (model, pk) -> instance (deleted rows included: history names them)."""
    found: dict = {}
    for model, ids in requests.items():
        ids = {i for i in ids if i is not None}
        if not ids:
            continue
        for obj in model._default_manager.filter(pk__in=ids):
            found[(model, obj.pk)] = obj
    return found


def history_for(*, tenant: Tenant, obj: models.Model, limit: int | None = None) -> list[HistoryEntry]:
    """Every tracked change of `obj` (any model tracked by django-pghistory), oldest first: when, who (from the
    pghistory context's `user`), action and (field label, old, new) for each changed field, with foreign keys
    shown by name — one query for the events plus one per referenced model, whatever the number of events.
    Records merged into `obj` contribute their history too. `limit` keeps the newest entries."""
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
    names = _resolve_objects(lookups)

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
            )
        )
    entries.sort(key=lambda entry: entry.when)
    if limit is not None:
        entries = entries[-limit:]
    return entries


@dataclass
class TimelineItem:
    kind: str  # "activity" | "history"
    when: datetime.datetime
    activity: Activity | None = None
    entry: HistoryEntry | None = None


def timeline_for(
    *,
    tenant: Tenant,
    lead: Any = None,
    account: Account | None = None,
    contact: Contact | None = None,
    opportunity: Opportunity | None = None,
    limit: int = 50,
) -> list[TimelineItem]:
    """Activities of the record and its change history merged, newest first, at most `limit` items.

    Give exactly one record. Two queries for activities and history plus the history's name look-ups."""
    target = next((r for r in (opportunity, contact, lead, account) if r is not None), None)
    if target is None:
        return []
    activities = Activity.objects.filter(tenant=tenant, deleted_at=None)
    if opportunity is not None:
        activities = activities.filter(opportunity=opportunity)
    elif contact is not None:
        activities = activities.filter(contact=contact)
    elif lead is not None:
        activities = activities.filter(lead=lead)
    else:
        activities = activities.filter(account=account)
    activities = (
        activities.annotate(when=Coalesce("occurred_at", "due_at", "created_at"))
        .select_related("owner", "contact", "opportunity", "account", "lead")
        .order_by("-when", "-pk")[:limit]
    )
    items = [TimelineItem(kind="activity", when=a.when, activity=a) for a in activities]
    items += [
        TimelineItem(kind="history", when=entry.when, entry=entry)
        for entry in history_for(tenant=tenant, obj=target, limit=limit)
    ]
    items.sort(key=lambda item: item.when, reverse=True)
    return items[:limit]


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
