"""The tenant's periods as the dashboards pick them (KPIS.md "Conventions"): the period holding a local date,
the previous and next ones, and the pickers' choices. Pure date arithmetic, no query."""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils.formats import date_format
from django.utils.translation import gettext as _

from crm.models import Tenant

STEP_MONTHS = {"month": 1, "quarter": 3, "year": 12}


def add_months(day: datetime.date, months: int) -> datetime.date:
    index = day.year * 12 + (day.month - 1) + months
    return datetime.date(index // 12, index % 12 + 1, 1)


def period_start(day: datetime.date, grain: str, fiscal_start_month: int = 1) -> datetime.date:
    """The first local day of the `grain` period holding `day` (fiscal quarters and years)."""
    month_start = day.replace(day=1)
    if grain == "month":
        return month_start
    offset = (day.month - fiscal_start_month) % STEP_MONTHS[grain]
    return add_months(month_start, -offset)


@dataclass(frozen=True)
class Period:
    grain: str
    start: datetime.date

    @property
    def end(self) -> datetime.date:
        """The first day after the period."""
        return add_months(self.start, STEP_MONTHS[self.grain])

    @property
    def last_day(self) -> datetime.date:
        return self.end - datetime.timedelta(days=1)

    def shifted(self, periods: int) -> Period:
        return Period(self.grain, add_months(self.start, STEP_MONTHS[self.grain] * periods))

    @property
    def previous(self) -> Period:
        return self.shifted(-1)

    def label(self, fiscal_start_month: int = 1) -> str:
        if self.grain == "month":
            return date_format(self.start, "YEAR_MONTH_FORMAT")  # "Dec 2026" / "2026年12月" (crm/formats)
        if self.grain == "quarter":
            # Fiscal quarters are numbered from the fiscal year start month; the year is the one it starts in.
            number = ((self.start.month - fiscal_start_month) % 12) // 3 + 1
            if fiscal_start_month == 1:
                return f"{self.start.year} Q{number}"
            fiscal_year = self.start.year if self.start.month >= fiscal_start_month else self.start.year - 1
            return _("FY%(year)s Q%(quarter)s") % {"year": fiscal_year, "quarter": number}
        if fiscal_start_month != 1:
            return _("FY%(year)s") % {"year": self.start.year}
        return str(self.start.year)


def current_period(tenant: Tenant, grain: str, today: datetime.date) -> Period:
    return Period(grain, period_start(today, grain, tenant.fiscal_year_start_month))


def period_choices(
    tenant: Tenant, grain: str, today: datetime.date, *, back: int = 24, ahead: int = 4
) -> list[Period]:
    """Newest first: `ahead` future periods, the current one, `back` past ones."""
    current = current_period(tenant, grain, today)
    return [current.shifted(offset) for offset in range(ahead, -back - 1, -1)]


def parse_period(tenant: Tenant, grain: str, raw: str | None, today: datetime.date) -> Period:
    """The period named by `raw` (any local date inside it, YYYY-MM-DD), else the current one."""
    if raw:
        try:
            day = datetime.date.fromisoformat(raw)
        except ValueError:
            day = today
    else:
        day = today
    return Period(grain, period_start(day, grain, tenant.fiscal_year_start_month))
