"""Sort orders of the account, contact and activity lists and their keyset (cursor) paginations."""

from __future__ import annotations

from typing import Any

from django.db.models import QuerySet
from django.utils.translation import gettext_lazy as _

from crm.pagination import CursorPagination

ACCOUNT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("name", "id"),
    "-name": ("-name", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
}


ACCOUNT_SORT_CHOICES = [
    ("name", _("Name A–Z")),
    ("-name", _("Name Z–A")),
    ("-created", _("Newest first")),
    ("created", _("Oldest first")),
]


CONTACT_SORTS: dict[str, tuple[str, ...]] = {
    "name": ("last_name", "first_name", "id"),
    "-name": ("-last_name", "-first_name", "-id"),
    "-created": ("-created_at", "-id"),
    "created": ("created_at", "id"),
}


ACTIVITY_SORTS: dict[str, tuple[str, ...]] = {
    "-occurred": ("-occurred_at", "-id"),
    "occurred": ("occurred_at", "id"),
    "due": ("due_at", "id"),
    "-due": ("-due_at", "-id"),
    "-id": ("-id",),
}


ACTIVITY_SORT_CHOICES = [
    ("-occurred", _("Latest first")),
    ("occurred", _("Oldest first")),
    ("due", _("Due soonest")),
    ("-due", _("Due latest")),
    ("-id", _("Newest entries")),
]


class SortedCursorPagination(CursorPagination):
    """Keyset pagination whose ordering comes from the `sort` parameter (one of `sorts`); no COUNT, no OFFSET
    walk, so page 10 000 costs what page 1 costs."""

    sorts: dict[str, tuple[str, ...]] = ACCOUNT_SORTS
    default_sort = "name"

    def __init__(
        self, sorts: dict[str, tuple[str, ...]] | None = None, default_sort: str | None = None
    ) -> None:
        if sorts is not None:
            self.sorts = sorts
        if default_sort is not None:
            self.default_sort = default_sort

    def get_ordering(self, request: Any, queryset: QuerySet, view: Any) -> tuple[str, ...]:
        sort = request.query_params.get("sort") or self.default_sort
        return self.sorts.get(sort, self.sorts[self.default_sort])


class AccountCursorPagination(SortedCursorPagination):
    sorts = ACCOUNT_SORTS
    default_sort = "name"


class ContactCursorPagination(SortedCursorPagination):
    sorts = CONTACT_SORTS
    default_sort = "name"


class ActivityCursorPagination(SortedCursorPagination):
    sorts = ACTIVITY_SORTS
    default_sort = "-id"
