"""The lifecycle page (CS, ops, admins, sales managers): accounts per stage now, the flows between stages per
month (chart and table), and the drill-down list behind every number, within the viewer's visibility."""

from __future__ import annotations

import json
from typing import Any

from django.db.models import QuerySet
from django.http import Http404, HttpResponse
from django.shortcuts import render
from django.utils.formats import date_format
from django.utils.translation import gettext as _

from accounts.models import LifecycleStageName
from crm.decorators import tenant_roles_required
from crm.navigation import CS
from crm.types import TenantHttpRequest
from lifecycle.selectors.overview import (
    FLOW_KEYS,
    FLOWS,
    FLOWS_BY_KEY,
    flow_changes,
    lifecycle_summary,
    parse_month,
    stage_accounts,
)
from lifecycle.views.common import _page, _query_without_page

# Who opens the lifecycle page: cs, ops, admins and sales managers (crm.navigation.CS); reps get a 404.
LIFECYCLE_VIEWERS = CS


def _month_label(first: Any) -> str:
    return date_format(first, "YEAR_MONTH_FORMAT")


@tenant_roles_required(LIFECYCLE_VIEWERS)
def lifecycle_overview(request: TenantHttpRequest, slug: str) -> HttpResponse:
    summary = lifecycle_summary(
        tenant=request.tenant, membership=request.membership, last_month=parse_month(request.GET.get("until"))
    )
    months = summary["flows"]
    rows = [
        {
            "month": row["month"],
            "param": row["month"].strftime("%Y-%m"),
            "label": _month_label(row["month"]),
            "cells": [{"key": key, "count": row[key]} for key in FLOW_KEYS],
        }
        for row in reversed(months)  # newest first in the table
    ]
    totals = [{"key": key, "count": sum(row[key] for row in months)} for key in FLOW_KEYS]
    chart = {
        "labels": [_month_label(row["month"]) for row in months],
        "datasets": [
            {"key": flow.key, "label": str(flow.label), "data": [row[flow.key] for row in months]}
            for flow in FLOWS
        ],
    }
    return render(
        request,
        "lifecycle/lifecycle_overview.html",
        {
            "summary": summary,
            "flows": FLOWS,
            "rows": rows,
            "totals": totals,
            "chart_json": json.dumps(chart),
            "until": summary["last_month"].strftime("%Y-%m"),
            "this_month": summary["as_of"].strftime("%Y-%m"),
        },
    )


@tenant_roles_required(LIFECYCLE_VIEWERS)
def lifecycle_accounts(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The accounts behind a number: `?stage=<stage>` (in that stage now) or `?flow=<flow>&month=YYYY-MM` (the
    changes of that flow in that month). Anything else is a 404."""
    stage = request.GET.get("stage")
    flow = request.GET.get("flow")
    context: dict[str, Any]
    qs: QuerySet[Any]
    if stage is not None:
        if stage not in LifecycleStageName.values or flow is not None:
            raise Http404
        qs = stage_accounts(tenant=request.tenant, membership=request.membership, stage=stage)
        context = {
            "mode": "stage",
            "heading": _("Accounts in %(stage)s now") % {"stage": LifecycleStageName(stage).label},
        }
    else:
        month = parse_month(request.GET.get("month"))
        if flow not in FLOW_KEYS or month is None:
            raise Http404
        qs = flow_changes(tenant=request.tenant, membership=request.membership, flow=flow or "", month=month)
        context = {
            "mode": "flow",
            "heading": _("%(flow)s in %(month)s")
            % {"flow": FLOWS_BY_KEY[flow or ""].label, "month": _month_label(month)},
        }
    page = _page(request, qs)
    return render(
        request,
        "lifecycle/lifecycle_accounts.html",
        {
            **context,
            "page": page,
            "query": _query_without_page(request),
        },
    )
