"""The tables of the dashboards: cells that know how they show (null is "—", never 0) and where they drill down,
rendered by one partial and exported to CSV by one function, so the export is exactly the table on screen."""

from __future__ import annotations

import csv
from dataclasses import dataclass, field
from decimal import Decimal

from django.http import HttpResponse

DASH = "—"


def format_value(value: Decimal | int | str | None, kind: str) -> str:
    """How a number shows: counts as integers, money with two decimals, rates as percents, days with one."""
    if value is None:
        return DASH
    if kind == "text":
        return str(value)
    number = Decimal(value)
    if kind.startswith("delta") and number == 0:
        return "0"
    if kind == "count":
        return f"{number:,.0f}"
    if kind == "money":
        return f"{number:,.2f}"
    if kind == "rate":
        return f"{number * 100:.1f}%"
    if kind == "ratio":
        return f"{number:.2f}"
    if kind == "days":
        return f"{number:,.1f}"
    if kind == "delta_count":
        return f"{number:+,.0f}"
    if kind == "delta_money":
        return f"{number:+,.2f}"
    if kind == "delta_days":
        return f"{number:+,.1f}"
    if kind == "delta_rate":
        # A change of a rate is in percentage points.
        return f"{number * 100:+.1f} pp"
    return str(value)


@dataclass
class Cell:
    value: Decimal | int | str | None
    kind: str = "text"
    link: str = ""
    numeric: bool = True
    testid: str = ""

    def __post_init__(self) -> None:
        if self.kind == "text":
            self.numeric = False

    @property
    def text(self) -> str:
        return format_value(self.value, self.kind)

    @property
    def is_null(self) -> bool:
        return self.value is None

    @property
    def sign(self) -> str:
        """ "up"/"down" for deltas (the page colours them)."""
        if not self.kind.startswith("delta") or self.value is None:
            return ""
        return "up" if Decimal(self.value) > 0 else "down" if Decimal(self.value) < 0 else ""


@dataclass
class Column:
    key: str
    label: str
    sort_url: str = ""
    sorted: str = ""  # "asc" | "desc" | ""
    nowrap: bool = False  # short labels that must not break (period labels such as 2027-01)
    text: bool = False  # a column of text (names, dates as words): its header aligns left like its cells


@dataclass
class Table:
    key: str
    title: str
    columns: list[Column]
    rows: list[list[Cell]] = field(default_factory=list)
    export_url: str = ""
    empty_text: str = ""

    def csv_rows(self) -> list[list[str]]:
        return [[column.label for column in self.columns]] + [
            [cell.text for cell in row] for row in self.rows
        ]


def csv_response(table: Table, filename: str) -> HttpResponse:
    """The table as CSV (UTF-8 with a BOM, so spreadsheets read 中文): the same header and cell texts."""
    response = HttpResponse(content_type="text/csv; charset=utf-8")
    response.write("\ufeff")
    writer = csv.writer(response)
    for row in table.csv_rows():
        writer.writerow(row)
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


def delta_kind(kind: str) -> str:
    """The kind of the change of a value of `kind`."""
    return {"rate": "delta_rate", "money": "delta_money", "days": "delta_days", "ratio": "delta_days"}.get(
        kind, "delta_count"
    )


def delta(current: Decimal | None, previous: Decimal | None) -> Decimal | None:
    if current is None or previous is None:
        return None
    return Decimal(current) - Decimal(previous)
