"""The lead inbox: its rows through the filters, and keyset pages (sort key + id, never OFFSET) with a capped count."""

from __future__ import annotations

import base64
import datetime
import json
from dataclasses import dataclass, field
from typing import Any

from django.db.models import F, Field, Func, Q, QuerySet
from django.utils.dateparse import parse_datetime
from django.utils.translation import gettext_lazy as _

from crm.models import Membership, Tenant
from leads.filters.leads import LeadFilterSet
from leads.models import Lead
from leads.selectors.leads import lead_filterset, lead_scoped_queryset

COUNT_CAP = 1000


PAGE_SIZE = 50


def lead_inbox(
    *, tenant: Tenant, membership: Membership, params: Any, scope: str
) -> tuple[LeadFilterSet, QuerySet[Lead]]:
    """The inbox's filter form and rows (one FilterSet, so its choices are read once)."""
    qs = lead_scoped_queryset(tenant=tenant, membership=membership, scope=scope)
    filterset = lead_filterset(
        tenant=tenant, membership=membership, filters=params, queryset=qs, narrow_search=False
    )
    rows = filterset.qs if filterset.is_valid() else qs.none()
    return filterset, rows.select_related("owner", "source", "campaign")


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
        if not isinstance(model_field, Field):  # the sort keys are concrete columns, never relations
            raise TypeError(f"Lead.{sort.field} is not a concrete field")
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


def cursor_valid(cursor: str, *, sort: str) -> bool:
    """Whether `cursor` is a keyset position of this sort (the API refuses one that is not; pages start over)."""
    spec = SORTS.get(sort) or API_SORTS.get(sort) or SORTS[DEFAULT_SORT]
    return _decode(cursor, spec) is not None


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
