"""The quotas grid: the months of a fiscal year × the tenant, its teams and its people. Keyboard friendly and
pasteable from a spreadsheet (static/js/dashboards.js); saved in one go by sales_ops.services.quotas."""

from __future__ import annotations

import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from django.contrib import messages
from django.core.exceptions import PermissionDenied, ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from crm.dates import tenant_today
from crm.decorators import tenant_roles_required
from crm.models import Membership, MembershipStatus, Role, Team
from crm.types import tenant_request
from sales_ops.models import Quota
from sales_ops.services.quotas import QuotaCell, quota_bulk_set, quota_can_edit
from sales_ops.views import common
from sales_ops.views.periods import add_months, period_start

SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


def _months(request: HttpRequest, tenant: Any) -> tuple[int, list[datetime.date]]:
    today = tenant_today(tenant)
    start = period_start(today, "year", tenant.fiscal_year_start_month)
    try:
        year = int(request.GET.get("year") or request.POST.get("year") or start.year)
    except ValueError:
        year = start.year
    year = min(max(year, 2000), 2100)
    first = datetime.date(year, tenant.fiscal_year_start_month, 1)
    return year, [add_months(first, offset) for offset in range(12)]


def _targets(tenant: Any) -> list[dict[str, Any]]:
    """Grid rows: the tenant, each team, each active sales person (one query each for teams and members)."""
    rows: list[dict[str, Any]] = [
        {
            "key": "tenant",
            "label": _("Whole company"),
            "owner_id": None,
            "team_id": None,
            "level": _("Company"),
        }
    ]
    for team in Team.objects.filter(tenant=tenant).order_by("name"):
        rows.append(
            {
                "key": f"team-{team.pk}",
                "label": team.name,
                "owner_id": None,
                "team_id": team.pk,
                "level": _("Team"),
            }
        )
    members = (
        Membership.objects.filter(tenant=tenant, status=MembershipStatus.ACTIVE, role__in=SALES_ROLES)
        .select_related("user", "team")
        .order_by("team__name", "user__full_name", "user__email")
    )
    for member in members:
        rows.append(
            {
                "key": f"owner-{member.user_id}",
                "label": member.user.display_name,
                "owner_id": member.user_id,
                "team_id": None,
                "level": member.team.name if member.team else _("No team"),
            }
        )
    return rows


@tenant_roles_required(common.RECOMPUTE_ROLES)
def quota_grid(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    tenant, membership = req.tenant, req.membership
    year, months = _months(request, tenant)
    targets = _targets(tenant)
    for target in targets:
        target["editable"] = quota_can_edit(
            membership=membership, owner_id=target["owner_id"], team_id=target["team_id"]
        )
    errors: list[str] = []
    posted: dict[str, str] = {}
    if request.method == "POST":
        cells = []
        for target in targets:
            if not target["editable"]:
                continue
            for month in months:
                name = f"q-{target['key']}-{month:%Y-%m}"
                if name not in request.POST:
                    continue
                raw = request.POST[name].strip().replace(",", "").replace(" ", "")
                posted[name] = request.POST[name]
                try:
                    amount = Decimal(raw) if raw else None
                except InvalidOperation:
                    errors.append(
                        _("%(who)s, %(month)s: enter a number.")
                        % {"who": target["label"], "month": f"{month:%Y-%m}"}
                    )
                    continue
                cells.append(
                    QuotaCell(
                        month=month, amount=amount, owner_id=target["owner_id"], team_id=target["team_id"]
                    )
                )
        if not errors:
            try:
                changed = quota_bulk_set(tenant=tenant, actor=req.user, membership=membership, cells=cells)
            except PermissionDenied:
                raise Http404 from None
            except ValidationError as exc:
                errors = list(exc.messages)
            else:
                messages.success(
                    request,
                    ngettext("%(count)d quota saved.", "%(count)d quotas saved.", changed)
                    % {"count": changed},
                )
                return redirect(f"{request.path}?year={year}")
    existing = {
        (q.owner_id, q.team_id, q.month): q.amount
        for q in Quota.objects.filter(tenant=tenant, month__in=months).only(
            "owner_id", "team_id", "month", "amount"
        )
    }
    grid = []
    for row_index, target in enumerate(targets):
        row_cells: list[dict[str, Any]] = []
        total = Decimal(0)
        for col_index, month in enumerate(months):
            amount = existing.get((target["owner_id"], target["team_id"], month))
            if amount is not None:
                total += amount
            name = f"q-{target['key']}-{month:%Y-%m}"
            value = posted.get(name, "" if amount is None else f"{amount:.2f}")
            row_cells.append(
                {"name": name, "value": value, "row": row_index, "col": col_index, "amount": amount}
            )
        grid.append({**target, "cells": row_cells, "total": total})
    state = common.snapshot_state(tenant)
    context = {
        **common.base_context(req, "quotas", state),
        "year": year,
        "years": list(range(year - 2, year + 3)),
        "months": months,
        "grid": grid,
        "errors": errors,
        "currency": tenant.currency,
    }
    return render(request, "sales_ops/quota_grid.html", context)
