"""The deal list's keyset pages: sort orders, cursors (encoded sort key + id) and one page before or after."""

from __future__ import annotations

import base64
import datetime as dt
import json
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from django.db.models import F, Q, QuerySet

from accounts.models import Opportunity
from accounts.selectors.opportunities import LIST_PAGE_SIZE

SORTS: dict[str, tuple[str, bool]] = {
    # key: (field, descending)
    "-created": ("created_at", True),
    "created": ("created_at", False),
    "-amount": ("amount_reporting", True),
    "amount": ("amount_reporting", False),
    "close": ("expected_close_date", False),
    "-close": ("expected_close_date", True),
    "name": ("name", False),
    "-name": ("name", True),
}


NULLABLE_SORT_FIELDS = {"expected_close_date"}


DEFAULT_SORT = "-created"


def _encode(value: Any, pk: int, backwards: bool) -> str:
    if isinstance(value, dt.datetime):
        raw: Any = ["dt", value.isoformat()]
    elif isinstance(value, dt.date):
        raw = ["d", value.isoformat()]
    elif isinstance(value, Decimal):
        raw = ["n", str(value)]
    else:
        raw = ["s", value]
    payload = json.dumps({"v": raw, "id": pk, "b": backwards}, separators=(",", ":"))
    return base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")


def _decode(cursor: str) -> tuple[Any, int, bool] | None:
    try:
        data = json.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode())
        kind, raw = data["v"]
        if raw is None:
            value: Any = None
        elif kind == "dt":
            value = dt.datetime.fromisoformat(raw)
        elif kind == "d":
            value = dt.date.fromisoformat(raw)
        elif kind == "n":
            value = Decimal(raw)
        else:
            value = str(raw)
        return value, int(data["id"]), bool(data.get("b"))
    except (ValueError, KeyError, TypeError, json.JSONDecodeError, ArithmeticError):
        return None


def _bound(field_name: str, op: str, value: Any) -> Q:
    """The redundant `field <= value` (or >=) next to the keyset OR: it lets PostgreSQL start the index scan at
    the cursor instead of filtering every row before it, so a deep page costs what the first one costs. Only
    for NOT NULL keys (a nullable key's nulls lie past any bound)."""
    if field_name in NULLABLE_SORT_FIELDS:
        return Q()
    return Q(**{f"{field_name}__{op}e": value})


def _after_q(field_name: str, descending: bool, value: Any, pk: int) -> Q:
    """Rows strictly after (value, pk) in the order (field [desc], id [desc]), nulls last."""
    op = "lt" if descending else "gt"
    if value is None:
        return Q(**{f"{field_name}__isnull": True, f"id__{op}": pk})
    after = Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"id__{op}": pk})
    if field_name in NULLABLE_SORT_FIELDS:
        after |= Q(**{f"{field_name}__isnull": True})
    return _bound(field_name, op, value) & after


def _before_q(field_name: str, descending: bool, value: Any, pk: int) -> Q:
    op = "gt" if descending else "lt"
    if value is None:
        return Q(**{f"{field_name}__isnull": False}) | Q(**{f"{field_name}__isnull": True, f"id__{op}": pk})
    return _bound(field_name, op, value) & (
        Q(**{f"{field_name}__{op}": value}) | Q(**{field_name: value, f"id__{op}": pk})
    )


def _order(field_name: str, descending: bool, reverse: bool = False) -> list[Any]:
    """Forward: nulls last; walking backwards reverses everything (nulls first).

    Only a nullable key says where nulls go: on a NOT NULL column an explicit NULLS LAST after DESC would no
    longer match the (tenant, key, id) index, and PostgreSQL would sort every visible deal for each page."""
    desc = descending != reverse
    nulls: dict[str, bool] = {}
    if field_name in NULLABLE_SORT_FIELDS:
        nulls = {"nulls_first": True} if reverse else {"nulls_last": True}
    expr = F(field_name).desc(**nulls) if desc else F(field_name).asc(**nulls)
    return [expr, F("id").desc() if desc else F("id").asc()]


@dataclass
class KeysetPage:
    rows: list[Opportunity]
    next_cursor: str | None
    previous_cursor: str | None
    sort: str


def opportunity_page(
    deals: QuerySet[Opportunity], *, sort: str | None, cursor: str | None, size: int = LIST_PAGE_SIZE
) -> KeysetPage:
    """One page of deals by keyset: one query (size + 1 rows) at any depth."""
    sort = sort if sort in SORTS else DEFAULT_SORT
    field_name, descending = SORTS[sort]
    decoded = _decode(cursor) if cursor else None
    backwards = bool(decoded and decoded[2])
    if decoded is None:
        rows = list(deals.order_by(*_order(field_name, descending))[: size + 1])
        has_more = len(rows) > size
        rows = rows[:size]
        has_previous = False
    elif not backwards:
        value, pk, _ = decoded
        rows = list(
            deals.filter(_after_q(field_name, descending, value, pk)).order_by(
                *_order(field_name, descending)
            )[: size + 1]
        )
        has_more = len(rows) > size
        rows = rows[:size]
        has_previous = True
    else:
        value, pk, _ = decoded
        rows = list(
            deals.filter(_before_q(field_name, descending, value, pk)).order_by(
                *_order(field_name, descending, reverse=True)
            )[: size + 1]
        )
        has_previous = len(rows) > size
        rows = list(reversed(rows[:size]))
        has_more = True
    next_cursor = _encode(getattr(rows[-1], field_name), rows[-1].pk, False) if rows and has_more else None
    previous_cursor = (
        _encode(getattr(rows[0], field_name), rows[0].pk, True) if rows and has_previous else None
    )
    return KeysetPage(rows=rows, next_cursor=next_cursor, previous_cursor=previous_cursor, sort=sort)
