"""Dates as the tenant's people see them: "today" and "this month" in the tenant's time zone, not the server's."""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.utils import timezone

if TYPE_CHECKING:
    from crm.models import Tenant


def tenant_now(tenant: Tenant) -> datetime.datetime:
    """Now, in the tenant's time zone."""
    return timezone.localtime(timezone.now(), tenant.tzinfo)


def tenant_today(tenant: Tenant) -> datetime.date:
    """Today's date in the tenant's time zone (already tomorrow in Shanghai while still today in Berlin)."""
    return tenant_now(tenant).date()


def tenant_month_bounds(
    tenant: Tenant,
) -> tuple[datetime.date, datetime.date, datetime.datetime, datetime.datetime]:
    """The current month in the tenant's zone: (first day, first day of next month, and the same two as aware
    datetimes at local midnight) for date fields and timestamp fields alike."""
    local_now = tenant_now(tenant)
    first = local_now.date().replace(day=1)
    next_first = (first.replace(day=28) + datetime.timedelta(days=4)).replace(day=1)
    start = local_now.replace(
        year=first.year, month=first.month, day=1, hour=0, minute=0, second=0, microsecond=0
    )
    end = start.replace(year=next_first.year, month=next_first.month)
    return first, next_first, start, end
