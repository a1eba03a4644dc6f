"""Reads of the leads area: visibility, the inbox (filters, search, keyset pages), the lead page, duplicates,
the public pool and its health.

Role visibility (DESIGN.md "Roles and visibility"), written once in `lead_visibility_q`:
- admin, ops: every lead;
- sales_manager: leads owned by their team (crm.visibility.owner_scope) and the open leads of the pool;
- sales_rep: their own leads and the open leads of the pool (to look before claiming);
- cs: no leads at all (pages 404).
"""

from __future__ import annotations

import base64
import datetime
import json
import re
from dataclasses import dataclass, field
from typing import Any

from django.contrib.postgres.search import TrigramSimilarity
from django.db.models import Count, F, Field, Func, Min, Q, QuerySet
from django.db.models.functions import Coalesce, Greatest, TruncWeek
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from crm.models import Membership, MembershipStatus, Role, Tenant, User
from crm.visibility import can_edit_owned, owner_scope, team_user_ids
from leads.filters_leads import LeadFilterSet
from leads.models import Lead, LeadPoolEvent, LeadSettings, LeadStatus, PoolEventKind

OPEN_STATUSES = (LeadStatus.NEW, LeadStatus.WORKING, LeadStatus.MQL, LeadStatus.SQL)
STATUS_ORDER: list[str] = [
    LeadStatus.NEW,
    LeadStatus.WORKING,
    LeadStatus.MQL,
    LeadStatus.SQL,
    LeadStatus.CONVERTED,
]
# Roles that open leads at all (cs gets 404 everywhere), and the roles a lead may be given to.
LEAD_ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP, Role.OPS)
ASSIGNABLE_ROLES = (Role.ADMIN, Role.SALES_MANAGER, Role.SALES_REP)
CLAIM_ROLES = ASSIGNABLE_ROLES
COUNT_CAP = 1000
PAGE_SIZE = 50


# --- visibility ---------------------------------------------------------------------------------------------


def pool_q() -> Q:
    """An open lead nobody owns is in the public pool."""
    return Q(owner__isnull=True, status__in=OPEN_STATUSES)


def lead_visibility_q(membership: Membership) -> Q | None:
    """The leads `membership` may see: None means all of them; a Q matching nothing means none."""
    if membership.role not in LEAD_ROLES:
        return Q(pk__in=[])
    scope = owner_scope(membership)
    if scope is None:
        return None
    return Q(owner_id__in=scope) | pool_q()


def lead_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[Lead]:
    """Live (not deleted, not merged away) leads the member may see: the base of every lead read."""
    qs = Lead.objects.filter(tenant=tenant, deleted_at=None)
    q = lead_visibility_q(membership)
    return qs if q is None else qs.filter(q)


def _team_ids(membership: Membership) -> set[int]:
    """The manager's team (crm.visibility.team_user_ids), read once per membership instance: bulk actions ask
    lead_can_edit for every lead, which would otherwise cost a query per lead."""
    cached: set[int] | None = getattr(membership, "_lead_team_ids", None)
    if cached is None:
        cached = team_user_ids(membership)
        membership._lead_team_ids = cached  # type: ignore[attr-defined]  # a per-instance cache
    return cached


def lead_can_edit(*, membership: Membership | None, lead: Lead) -> bool:
    """Admins all, managers their team's and the pool's, reps their own (a pool lead is claimed first).
    Same rule as crm.visibility.can_edit_owned, with the manager's team read once."""
    if membership is None:
        return True
    if membership.role not in ASSIGNABLE_ROLES:
        return False
    if membership.role == Role.SALES_MANAGER:
        return lead.owner_id is None or lead.owner_id in _team_ids(membership)
    return can_edit_owned(membership, lead.owner_id)


def lead_scopes(membership: Membership) -> list[tuple[str, Any]]:
    """The inbox tabs the role gets, the first being the default."""
    if membership.role == Role.SALES_REP:
        return [("my", _("My leads"))]
    if membership.role == Role.SALES_MANAGER:
        return [("my", _("My leads")), ("team", _("My team"))]
    if membership.role in (Role.ADMIN, Role.OPS):
        return [("all", _("All leads")), ("my", _("My leads"))]
    return []


def _apply_scope(qs: QuerySet[Lead], membership: Membership, scope: str) -> QuerySet[Lead]:
    if scope == "my":
        return qs.filter(owner_id=membership.user_id)
    if scope == "team":
        team = owner_scope(membership)
        return qs if team is None else qs.filter(owner_id__in=team)
    return qs


def _scoped_queryset(*, tenant: Tenant, membership: Membership, scope: str) -> QuerySet[Lead]:
    """Live visible leads of one inbox tab. The "my" and "team" tabs lie inside what a lead role sees already
    (its own, its team's leads), so they leave out the visibility OR with the pool: a plain owner condition
    that PostgreSQL walks an owner index with, instead of combining two bitmaps and sorting the result."""
    if scope in ("my", "team") and membership.role in LEAD_ROLES:
        return _apply_scope(Lead.objects.filter(tenant=tenant, deleted_at=None), membership, scope)
    return _apply_scope(lead_queryset(tenant=tenant, membership=membership), membership, scope)


# --- lists ---------------------------------------------------------------------------------------------------


def lead_filterset(
    *,
    tenant: Tenant,
    membership: Membership,
    filters: Any = None,
    queryset: QuerySet | None = None,
    narrow_search: bool = True,
) -> LeadFilterSet:
    """`narrow_search=False` for rows that lead_inbox_page reads: it narrows to the matching ids itself, and a
    second `id = ANY(...)` on the same rows makes PostgreSQL price the primary key as the product of both lists
    and scan the table instead (150 ms at a million leads)."""
    return LeadFilterSet(
        filters if filters is not None else None,
        queryset=queryset if queryset is not None else lead_queryset(tenant=tenant, membership=membership),
        tenant=tenant,
        membership=membership,
        narrow_search=narrow_search,
    )


def lead_list(
    *, tenant: Tenant, membership: Membership, filters: Any = None, scope: str | None = None
) -> QuerySet[Lead]:
    """Visible leads in the scope (my / team / all; default: the role's first tab), through LeadFilterSet.
    Invalid filter values (another tenant's source, an owner outside the scope) give an empty list."""
    qs = lead_queryset(tenant=tenant, membership=membership)
    scopes = [key for key, _label in lead_scopes(membership)]
    if scope is not None:
        if scope not in scopes:
            scope = scopes[0] if scopes else "my"
        qs = _scoped_queryset(tenant=tenant, membership=membership, scope=scope)
    if filters:
        filterset = lead_filterset(tenant=tenant, membership=membership, filters=filters, queryset=qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs.select_related("owner", "source", "campaign")


def lead_inbox(
    *, tenant: Tenant, membership: Membership, params: Any, scope: str
) -> tuple[LeadFilterSet, QuerySet[Lead]]:
    """The inbox's filter form and rows (one FilterSet, so its choices are read once)."""
    qs = _scoped_queryset(tenant=tenant, membership=membership, scope=scope)
    filterset = lead_filterset(
        tenant=tenant, membership=membership, filters=params, queryset=qs, narrow_search=False
    )
    rows = filterset.qs if filterset.is_valid() else qs.none()
    return filterset, rows.select_related("owner", "source", "campaign")


def pool_inbox(
    *, tenant: Tenant, membership: Membership, params: Any
) -> tuple[LeadFilterSet, QuerySet[Lead]]:
    qs = pool_queryset(tenant=tenant, membership=membership)
    filterset = lead_filterset(
        tenant=tenant, membership=membership, filters=params, queryset=qs, narrow_search=False
    )
    rows = filterset.qs if filterset.is_valid() else qs.none()
    return filterset, rows.select_related("source", "campaign").annotate(
        pool_since=Coalesce("pooled_at", "created_at")
    )


def lead_get(*, tenant: Tenant, membership: Membership, pk: int) -> Lead:
    """One visible live lead (Lead.DoesNotExist otherwise) with what its page shows."""
    lead = (
        lead_queryset(tenant=tenant, membership=membership)
        .select_related(
            "owner",
            "source",
            "campaign",
            "territory",
            "converted_account",
            "converted_contact",
            "converted_opportunity",
        )
        .get(pk=pk)
    )
    # Read by the lead page; not a column, so the model does not declare it.
    lead.can_edit = lead_can_edit(membership=membership, lead=lead)  # type: ignore[attr-defined]
    return lead


def lead_get_deleted(*, tenant: Tenant, membership: Membership, pk: int) -> Lead:
    """A soft-deleted lead the member could see and edit before deletion (for Restore)."""
    qs = Lead.objects.filter(tenant=tenant, deleted_at__isnull=False, merged_into__isnull=True)
    q = lead_visibility_q(membership)
    if q is not None:
        qs = qs.filter(q | Q(owner__isnull=True))
    lead = qs.get(pk=pk)
    if not lead_can_edit(membership=membership, lead=lead):
        raise Lead.DoesNotExist
    return lead


def leads_for_ids(
    *, tenant: Tenant, membership: Membership, ids: list[int], for_edit: bool = True
) -> list[Lead]:
    """Leads of a bulk action. Every id must be visible (and editable when `for_edit`), else the whole request is
    refused: Lead.DoesNotExist, exactly as for one missing id."""
    wanted = {int(i) for i in ids}
    leads = list(lead_queryset(tenant=tenant, membership=membership).filter(pk__in=wanted))
    if len(leads) != len(wanted):
        raise Lead.DoesNotExist
    if for_edit and not all(lead_can_edit(membership=membership, lead=lead) for lead in leads):
        raise Lead.DoesNotExist
    return leads


def owner_choices(*, tenant: Tenant, membership: Membership | None) -> QuerySet[User]:
    """Active members a lead may be given to by this member: admins anyone who works leads, managers their team,
    reps themselves."""
    members = Membership.objects.filter(
        tenant=tenant, status=MembershipStatus.ACTIVE, role__in=ASSIGNABLE_ROLES
    )
    if membership is not None and membership.role != Role.ADMIN:
        if membership.role == Role.SALES_MANAGER:
            members = members.filter(user_id__in=owner_scope(membership) or set())
        else:
            members = members.filter(user_id=membership.user_id)
    return User.objects.filter(pk__in=members.values("user_id"), is_active=True).order_by(
        "full_name", "email"
    )


# --- keyset pages ----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Sort:
    key: str
    label: Any
    field: str
    descending: bool
    nullable: bool = False


SORTS = {
    s.key: s
    for s in [
        Sort("-created", _("Newest"), "created_at", True),
        Sort("created", _("Oldest"), "created_at", False),
        Sort("-score", _("Highest score"), "score", True),
        Sort("-activity", _("Last activity"), "last_activity_at", True, nullable=True),
        Sort("company", _("Company A–Z"), "company", False),
    ]
}
DEFAULT_SORT = "-created"
# The API's `ordering` values, each a keyset (sort key + id) like the inbox's sorts, so paging through many equal
# scores or company names neither repeats nor skips a lead (an OFFSET-based cursor gives up past 1,000 ties).
API_SORTS = {
    "-created_at": SORTS["-created"],
    "created_at": SORTS["created"],
    "-score": SORTS["-score"],
    "score": Sort("score", _("Lowest score"), "score", False),
    "company": SORTS["company"],
    "-company": Sort("-company", _("Company Z–A"), "company", True),
}
API_DEFAULT_SORT = "-created_at"


@dataclass
class KeysetPage:
    rows: list
    sort: str
    next_cursor: str | None = None
    prev_cursor: str | None = None
    count: int = 0
    count_capped: bool = False
    extra: dict = field(default_factory=dict)

    @property
    def count_display(self) -> str:
        return f"{COUNT_CAP:,}+" if self.count_capped else f"{self.count:,}"


def _encode(value: Any, pk: int) -> str:
    if isinstance(value, datetime.datetime):
        value = value.isoformat()
    raw = json.dumps([value, pk], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def _decode(cursor: str, sort: Sort) -> tuple[Any, int] | None:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        value, pk = json.loads(raw)
        pk = int(pk)
        if value is not None and sort.field.endswith("_at"):
            value = parse_datetime(value)
            if value is None:
                return None
        elif value is not None and sort.field == "score":
            value = int(value)
        elif value is not None:
            value = str(value)
        if value is None and not sort.nullable:
            return None
        return value, pk
    except (ValueError, TypeError, json.JSONDecodeError):
        return None


def _after(qs: QuerySet, sort: Sort, value: Any, pk: int, forward: bool) -> QuerySet:
    """Rows strictly after (value, pk) in the walking direction, for the non-null part of the sort key.

    The redundant `field <= value` (or >=) bound is what lets PostgreSQL start the index scan at the cursor
    instead of filtering from the top, so a deep page costs what the first page costs."""
    f = sort.field
    goes_down = sort.descending == forward
    if goes_down:
        return qs.filter(**{f"{f}__lte": value}).filter(Q(**{f"{f}__lt": value}) | Q(pk__lt=pk))
    return qs.filter(**{f"{f}__gte": value}).filter(Q(**{f"{f}__gt": value}) | Q(pk__gt=pk))


def _ordered(qs: QuerySet, sort: Sort, forward: bool, narrowed: bool = False) -> QuerySet:
    """`qs` in the walking order. `narrowed`: qs is already cut to a few ids (lead_inbox_page), so the key is wrapped
    in a one-argument COALESCE (the same values, nulls and collation) that no index serves: PostgreSQL then reads
    those rows by primary key and sorts them, instead of walking the sort index of the whole tenant looking for
    them (150 ms at a million leads when the matches are old)."""
    goes_down = sort.descending == forward
    field: Func | F = F(sort.field)
    if narrowed:
        model_field = Lead._meta.get_field(sort.field)
        assert isinstance(model_field, Field)
        field = Func(F(sort.field), function="COALESCE", output_field=model_field)
    if sort.nullable:
        # Walking forward: values first (newest first), nulls last; walking back mirrors it.
        if forward:
            key = field.desc(nulls_last=True) if goes_down else field.asc(nulls_last=True)
        else:
            key = field.desc(nulls_first=True) if goes_down else field.asc(nulls_first=True)
    else:
        key = field.desc() if goes_down else field.asc()
    return qs.order_by(key, "-pk" if goes_down else "pk")


def _fetch(
    qs: QuerySet,
    sort: Sort,
    cursor: tuple[Any, int] | None,
    forward: bool,
    limit: int,
    narrowed: bool = False,
) -> list:
    """Up to `limit` rows after the cursor in the walking direction (nulls of a nullable key form a segment that
    comes last walking forward and first walking back)."""
    f = sort.field
    goes_down = sort.descending == forward
    id_after = Q(pk__lt=cursor[1]) if cursor and goes_down else Q(pk__gt=cursor[1]) if cursor else Q()
    if not sort.nullable:
        if cursor is not None:
            qs = _after(qs, sort, cursor[0], cursor[1], forward)
        return list(_ordered(qs, sort, forward, narrowed)[:limit])
    values = qs.filter(**{f"{f}__isnull": False})
    nulls = qs.filter(**{f"{f}__isnull": True}).order_by("-pk" if goes_down else "pk")
    if forward:
        if cursor is None:
            return list(_ordered(qs, sort, forward, narrowed)[:limit])
        if cursor[0] is None:
            return list(nulls.filter(id_after)[:limit])
        rows = list(
            _ordered(_after(values, sort, cursor[0], cursor[1], forward), sort, forward, narrowed)[:limit]
        )
        if len(rows) < limit:
            rows += list(nulls[: limit - len(rows)])
        return rows
    # Walking back: from the cursor towards the top of the list.
    if cursor is None:
        return []
    if cursor[0] is None:
        rows = list(nulls.filter(id_after)[:limit])
        if len(rows) < limit:
            rows += list(_ordered(values, sort, forward, narrowed)[: limit - len(rows)])
        return rows
    return list(
        _ordered(_after(values, sort, cursor[0], cursor[1], forward), sort, forward, narrowed)[:limit]
    )


def lead_inbox_page(
    qs: QuerySet[Lead],
    *,
    sort: str = DEFAULT_SORT,
    after: str | None = None,
    before: str | None = None,
    size: int = PAGE_SIZE,
    with_count: bool = True,
) -> KeysetPage:
    """One page of the inbox by keyset (sort key + id), never OFFSET; the count is capped at COUNT_CAP + 1 rows
    (no COUNT(*) over a million-row table).

    The capped count is read first, as ids: when the filters leave at most COUNT_CAP leads, the page is read among
    those ids (primary-key lookups and a small sort). Otherwise PostgreSQL, which cannot know that a search term
    is rare, walks the sort index and filters row after row: seconds for a term that matches nothing at a
    million leads. With more matches than that, walking the sort index finds a page quickly."""
    spec = SORTS.get(sort) or API_SORTS.get(sort) or SORTS[DEFAULT_SORT]
    matched: list[int] | None = None
    narrowed = False
    if with_count:
        matched = list(qs.order_by().values_list("pk", flat=True)[: COUNT_CAP + 1])
        if len(matched) <= COUNT_CAP:
            qs = qs.filter(pk__in=matched) if matched else qs.none()
            narrowed = True
    forward = True
    cursor = None
    if before:
        cursor = _decode(before, spec)
        forward = cursor is None
    if forward and after:
        cursor = _decode(after, spec)
    rows = _fetch(qs, spec, cursor, forward, size + 1, narrowed)
    has_more = len(rows) > size
    rows = rows[:size]
    if not forward:
        rows.reverse()
    page = KeysetPage(rows=rows, sort=spec.key)
    if rows:
        first, last = rows[0], rows[-1]
        if (forward and has_more) or (not forward and cursor is not None):
            page.next_cursor = _encode(getattr(last, spec.field), last.pk)
        if (forward and cursor is not None) or (not forward and has_more):
            page.prev_cursor = _encode(getattr(first, spec.field), first.pk)
    if matched is not None:
        page.count = len(matched)
        page.count_capped = page.count > COUNT_CAP
    return page


# --- duplicates ------------------------------------------------------------------------------------------------

_LEGAL_SUFFIXES = re.compile(
    r"\b(co|corp|corporation|inc|incorporated|ltd|limited|llc|gmbh|ag|kg|se|sa|sarl|bv|plc|group|holding|holdings)\b\.?",
    re.IGNORECASE,
)
_CN_SUFFIXES = re.compile(r"(股份有限公司|有限责任公司|有限公司|集团|公司)$")


def normalize_company(name: str) -> str:
    """Company name for similarity: upper-cased, legal forms and punctuation dropped."""
    value = _CN_SUFFIXES.sub("", (name or "").strip())
    value = _LEGAL_SUFFIXES.sub(" ", value)
    value = re.sub(r"[^\w]+", " ", value)
    return " ".join(value.split()).upper()


def phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone or "")


PHONE_TAIL_DIGITS = 7


def phone_tail(phone: str) -> str:
    """The duplicate key of a phone: its last seven digits ("" for fewer). Two numbers where one ends with the
    other (with or without the country code, 7+ digits) share it; _same_phone then confirms the match."""
    digits = phone_digits(phone)
    return digits[-PHONE_TAIL_DIGITS:] if len(digits) >= PHONE_TAIL_DIGITS else ""


def _same_phone(a: str, b: str) -> bool:
    """Same number, with or without the country code."""
    if not a or not b:
        return False
    short, long = sorted((a, b), key=len)
    return long.endswith(short) and len(short) >= PHONE_TAIL_DIGITS


# Company names are compared when their normalized form has 3+ characters. Candidates are the leads whose
# company_key shares the name's first word (CJK names: the first two characters), read as two bounded index
# ranges around the name itself (COMPANY_WINDOW keys on each side), then ranked by trigram similarity.
COMPANY_MIN_CHARS = 3
COMPANY_WINDOW = 100
SIMILARITY_THRESHOLD = 0.3


def _company_range(core: str) -> tuple[str, str]:
    """[start, stop) of the company keys that share `core`'s first word (C collation: code point order)."""
    prefix = core.split(" ", 1)[0]
    if not prefix.isascii():
        prefix = prefix[:2]
    elif len(prefix) < COMPANY_MIN_CHARS:
        prefix = core[:COMPANY_MIN_CHARS]
    return prefix, prefix[:-1] + chr(ord(prefix[-1]) + 1)


def _company_candidates(qs: QuerySet[Lead], core: str) -> list[int]:
    """Ids of up to 2 x COMPANY_WINDOW leads whose company_key is nearest to `core` within its first word's
    range: one query, two backward/forward walks of the (tenant, company_key) index."""
    start, stop = _company_range(core)
    before = qs.filter(company_key__gte=start, company_key__lt=core).order_by("-company_key")
    after = qs.filter(company_key__gte=core, company_key__lt=stop).order_by("company_key")
    window = before.values_list("pk", flat=True)[:COMPANY_WINDOW].union(
        after.values_list("pk", flat=True)[:COMPANY_WINDOW], all=True
    )
    return list(window)


@dataclass
class LeadDuplicate:
    lead: Lead
    same_email: bool
    same_phone: bool
    similarity: float
    visible: bool = True


def lead_duplicates(
    *,
    tenant: Tenant,
    membership: Membership | None,
    email: str = "",
    phone: str = "",
    company: str = "",
    exclude_id: int | None = None,
    limit: int = 8,
) -> list[LeadDuplicate]:
    """Live leads the member may see that look like the same person or company: the same email (stored
    lower-cased), the same phone (its last seven digits, then a suffix check), or a similar normalized company
    name (trigram similarity >= 0.3 among the bounded candidates of _company_candidates).

    Invisible leads are never found (DESIGN.md: they behave as if they did not exist), as for accounts and
    contacts; `membership=None` (system callers) searches the whole tenant. Every lookup is an index range
    under row-level security: one query, two when a company name is given."""
    email = (email or "").strip().lower()
    digits = phone_digits(phone)
    tail = phone_tail(phone)
    core = normalize_company(company)[:200]
    use_company = len(core) >= COMPANY_MIN_CHARS
    if not email and not tail and not use_company:
        return []
    qs = Lead.objects.filter(tenant=tenant, deleted_at=None)
    visible_q = lead_visibility_q(membership) if membership is not None else None
    if visible_q is not None:
        qs = qs.filter(visible_q)
    if exclude_id:
        qs = qs.exclude(pk=exclude_id)
    q = Q(pk__in=[])
    if email:
        q |= Q(email=email)
    if tail:
        q |= Q(phone_tail=tail)
    order = ["-created_at", "-pk"]
    if use_company:
        candidates = _company_candidates(qs, core)
        qs = qs.annotate(similarity=TrigramSimilarity("company_key", core))
        if candidates:
            q |= Q(pk__in=candidates, similarity__gte=SIMILARITY_THRESHOLD)
        order = ["-similarity", *order]
    found = list(qs.filter(q).select_related("owner").order_by(*order)[: limit * 3])
    result = []
    for lead in found:
        same_email = bool(email) and lead.email == email
        same_phone = bool(tail) and _same_phone(phone_digits(lead.phone), digits)
        similarity = float(getattr(lead, "similarity", 0) or 0)
        if same_email or same_phone or similarity >= SIMILARITY_THRESHOLD:
            result.append(LeadDuplicate(lead, same_email, same_phone, similarity))
    result.sort(key=lambda d: (not d.same_email, not d.same_phone, -d.similarity, -d.lead.pk))
    return result[:limit]


# --- pool --------------------------------------------------------------------------------------------------------


def lead_settings_get(*, tenant: Tenant) -> LeadSettings:
    """The tenant's lead settings (defaults, unsaved, when never edited)."""
    found = LeadSettings.objects.filter(tenant=tenant).first()
    return found or LeadSettings(tenant=tenant)


def pool_queryset(*, tenant: Tenant, membership: Membership) -> QuerySet[Lead]:
    if membership.role not in LEAD_ROLES:
        return Lead.objects.none()
    return Lead.objects.filter(tenant=tenant, deleted_at=None).filter(pool_q())


def pool_list(*, tenant: Tenant, membership: Membership, filters: Any = None) -> QuerySet[Lead]:
    """Open leads nobody owns, longest in the pool first by default; the inbox filters apply."""
    qs = pool_queryset(tenant=tenant, membership=membership)
    if filters:
        filterset = lead_filterset(tenant=tenant, membership=membership, filters=filters, queryset=qs)
        qs = filterset.qs if filterset.is_valid() else qs.none()
    return qs.select_related("source", "campaign").annotate(pool_since=Coalesce("pooled_at", "created_at"))


def open_claims_count(*, tenant: Tenant, user_id: int) -> int:
    """Leads claimed from the pool that the rep holds open now (what the cap limits)."""
    return Lead.objects.filter(
        tenant=tenant,
        owner_id=user_id,
        claimed_at__isnull=False,
        status__in=OPEN_STATUSES,
        deleted_at=None,
    ).count()


@dataclass
class PoolHealth:
    size: int
    age_buckets: list[tuple[Any, int]]
    weeks: list[dict]
    per_rep: list[dict]
    oldest: datetime.datetime | None


AGE_BUCKETS = [
    (0, 7, _("under a week")),
    (7, 30, _("1–4 weeks")),
    (30, 90, _("1–3 months")),
    (90, None, _("over 3 months")),
]


def pool_health(
    *, tenant: Tenant, membership: Membership, weeks: int = 8, now: datetime.datetime | None = None
) -> PoolHealth:
    """Size and age of the pool, returns and claims per week (tenant time zone), claims per rep. Four queries."""
    now = now or timezone.now()
    since = Coalesce("pooled_at", "created_at")
    aggregates = {"size": Count("pk"), "oldest": Min(since)}
    for index, (low, high, _label) in enumerate(AGE_BUCKETS):
        cond = Q(pool_since__lte=now - datetime.timedelta(days=low)) if low else Q()
        if high is not None:
            cond &= Q(pool_since__gt=now - datetime.timedelta(days=high))
        aggregates[f"b{index}"] = Count("pk", filter=cond)
    stats = (
        pool_queryset(tenant=tenant, membership=membership).alias(pool_since=since).aggregate(**aggregates)
    )
    start = now - datetime.timedelta(weeks=weeks)
    per_week = (
        LeadPoolEvent.objects.filter(tenant=tenant, at__gte=start)
        .annotate(week=TruncWeek("at", tzinfo=tenant.tzinfo))
        .values("week", "kind")
        .annotate(n=Count("pk"))
    )
    by_week: dict = {}
    for row in per_week:
        by_week.setdefault(row["week"].date(), {})[row["kind"]] = row["n"]
    local_today = timezone.localtime(now, tenant.tzinfo).date()
    monday = local_today - datetime.timedelta(days=local_today.weekday())
    week_rows = []
    for offset in range(weeks - 1, -1, -1):
        week = monday - datetime.timedelta(weeks=offset)
        counts = by_week.get(week, {})
        week_rows.append(
            {
                "week": week,
                "returned": counts.get(PoolEventKind.RETURNED, 0),
                "claimed": counts.get(PoolEventKind.CLAIMED, 0),
            }
        )
    scope = owner_scope(membership)
    claims = LeadPoolEvent.objects.filter(
        tenant=tenant, kind=PoolEventKind.CLAIMED, at__gte=start, user__isnull=False
    )
    held = Lead.objects.filter(
        tenant=tenant,
        claimed_at__isnull=False,
        status__in=OPEN_STATUSES,
        deleted_at=None,
        owner__isnull=False,
    )
    if scope is not None:
        claims = claims.filter(user_id__in=scope)
        held = held.filter(owner_id__in=scope)
    claim_counts = dict(claims.values_list("user_id").annotate(n=Count("pk")).values_list("user_id", "n"))
    held_counts = dict(held.values_list("owner_id").annotate(n=Count("pk")).values_list("owner_id", "n"))
    user_ids = set(claim_counts) | set(held_counts)
    users = {u.pk: u for u in User.objects.filter(pk__in=user_ids)} if user_ids else {}
    per_rep = sorted(
        (
            {"user": users[uid], "claimed": claim_counts.get(uid, 0), "held": held_counts.get(uid, 0)}
            for uid in user_ids
            if uid in users
        ),
        key=lambda row: (-row["claimed"], -row["held"], row["user"].display_name),
    )
    return PoolHealth(
        size=stats["size"],
        age_buckets=[(label, stats[f"b{i}"]) for i, (_l, _h, label) in enumerate(AGE_BUCKETS)],
        weeks=week_rows,
        per_rep=per_rep,
        oldest=stats["oldest"],
    )


def pool_clock() -> Greatest:
    """When a lead's idle time started: the latest of its last activity, its assignment or claim, its creation."""
    return Greatest(
        Coalesce("last_activity_at", "created_at"), Coalesce("assigned_at", "created_at"), F("created_at")
    )
