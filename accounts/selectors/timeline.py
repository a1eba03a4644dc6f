"""The timeline of a record: its activities and its history merged, newest first, in cursor pages."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from django.db.models import Q
from django.db.models.functions import Coalesce

from accounts.models import Account, Activity, Contact, Opportunity
from accounts.selectors.history import HistoryEntry, history_for
from accounts.selectors.visibility import activity_queryset
from crm.models import Membership, Tenant

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
