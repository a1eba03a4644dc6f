"""Rep performance: a leaderboard of reps (or teams) for a period — activities per working day, calls, emails,
meetings, deals won, won amount, win rate and quota attainment — sortable by any column."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from django.http import HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET

from crm.decorators import tenant_member_required
from crm.models import MembershipStatus, Role
from crm.types import tenant_request
from sales_ops.models import Dimension
from sales_ops.views import common
from sales_ops.views.tables import Cell, Column, Table, delta

# (metric, label, kind, drill-down: deals status, or "activities:<kinds>" for the activity list, or "")
COLUMNS = [
    (
        "activities_per_rep_day",
        gettext_lazy("Activities per working day"),
        "ratio",
        "activities:call,email,meeting",
    ),
    ("calls_logged", gettext_lazy("Calls"), "count", "activities:call"),
    ("emails_logged", gettext_lazy("Emails"), "count", "activities:email"),
    ("meetings_logged", gettext_lazy("Meetings"), "count", "activities:meeting"),
    ("opps_won", gettext_lazy("Deals won"), "count", "won"),
    ("won_amount", gettext_lazy("Won amount"), "money", "won"),
    ("win_rate", gettext_lazy("Win rate"), "rate", "won"),
    ("quota_attainment", gettext_lazy("Quota attainment"), "rate", "won"),
]
ROW_DIMENSIONS = (Dimension.OWNER, Dimension.TEAM)
SALES_ROLES = (Role.SALES_REP, Role.SALES_MANAGER)


def build(request: HttpRequest) -> dict[str, Any]:
    req = tenant_request(request)
    tenant = req.tenant
    picked = common.pickers(req, ahead=0)
    period = picked.period
    rows_by: str = Dimension.TEAM if request.GET.get("rows") == Dimension.TEAM else Dimension.OWNER
    values = common.read_values(
        tenant=tenant,
        visibility=common.visibility(req),
        metrics=[metric for metric, *_rest in COLUMNS],
        grain=picked.grain,
        first=period.previous.start,
        last=period.start,
        dimensions=[rows_by],
    )
    people = common.people(tenant)
    if rows_by == Dimension.OWNER:
        keys = {
            email
            for email, member in people.by_email.items()
            if member.role in SALES_ROLES and member.status == MembershipStatus.ACTIVE
        } | set(values.values_of(Dimension.OWNER))
    else:
        keys = set(people.team_ids) | set(values.values_of(Dimension.TEAM))
    keys = {key for key in keys if common.can_see(req, rows_by, key, people)}
    entries: list[dict[str, Any]] = []
    for key in keys:
        if rows_by == Dimension.OWNER:
            member = people.by_email.get(key)
            name = people.owner_name(key)
            team = member.team.name if member is not None and member.team is not None else ""
        else:
            name, team = key, ""
        numbers = {metric: values.get(metric, period.start, rows_by, key) for metric, *_rest in COLUMNS}
        previous = values.get("won_amount", period.previous.start, rows_by, key)
        entries.append({"key": key, "name": name, "team": team, "numbers": numbers, "previous_won": previous})
    sort = request.GET.get("sort") or "won_amount"
    if sort not in {metric for metric, *_rest in COLUMNS} | {"name"}:
        sort = "won_amount"
    descending = request.GET.get("dir", "desc" if sort != "name" else "asc") != "asc"
    if sort == "name":
        entries.sort(key=lambda e: str(e["name"]).lower(), reverse=descending)
    else:
        # Nulls last whichever way the column is sorted; then by name.
        entries.sort(key=lambda e: str(e["name"]).lower())
        present = [e for e in entries if e["numbers"][sort] is not None]
        missing = [e for e in entries if e["numbers"][sort] is None]
        present.sort(key=lambda e: Decimal(e["numbers"][sort]), reverse=descending)
        entries = present + missing

    def column(key: str, label: str) -> Column:
        is_sorted = key == sort
        direction = "asc" if is_sorted and descending else "desc"
        if key == "name" and not is_sorted:
            direction = "asc"
        url = "?" + common.query_string(req, sort=key, dir=direction, export=None)
        return Column(key, label, sort_url=url, sorted=("desc" if descending else "asc") if is_sorted else "")

    previous_label = period.previous.label(tenant.fiscal_year_start_month)
    columns = [column("name", _("Rep") if rows_by == Dimension.OWNER else _("Team"))]
    if rows_by == Dimension.OWNER:
        columns.append(Column("team", _("Team")))
    columns += [column(metric, str(label)) for metric, label, _kind, _status in COLUMNS]
    # Comparison with the previous period: the won amount then and the change.
    columns += [
        Column("won_previous", _("Won, %(period)s") % {"period": previous_label}),
        Column("won_change", _("Change")),
    ]
    table = Table("leaderboard", _("Leaderboard"), columns, empty_text=_("No reps to show."))
    for rank, entry in enumerate(entries, start=1):
        filters = common.owner_team_filters(people, rows_by, entry["key"])
        row = [Cell(entry["name"], testid=f"rep-{rank}")]
        if rows_by == Dimension.OWNER:
            row.append(Cell(entry["team"]))
        for metric, _label, kind, status in COLUMNS:
            link = ""
            if status.startswith("activities:"):
                owner = filters.get("owner") if filters else None
                if owner:
                    link = common.activities_link(tenant, period, status.split(":", 1)[1].split(","), owner)
            elif metric in ("quota_attainment", "win_rate"):
                link = common.drill_link(tenant, metric, period, rows_by, entry["key"])
            elif status and filters:
                link = common.deals_link(tenant, period, status=status, **filters)
            row.append(Cell(entry["numbers"][metric], kind, link=link))
        before = entry["previous_won"]
        row.append(
            Cell(
                before,
                "money",
                link=common.deals_link(tenant, period.previous, status="won", **filters) if filters else "",
            )
        )
        row.append(Cell(delta(entry["numbers"]["won_amount"], before), "delta_money"))
        table.rows.append(row)
    table.export_url = "?" + common.query_string(req, export=table.key)
    chart = {
        "labels": [e["name"] for e in entries[:15]],
        "datasets": [
            {
                "label": _("Won amount"),
                "data": [
                    None if e["numbers"]["won_amount"] is None else float(e["numbers"]["won_amount"])
                    for e in entries[:15]
                ],
            }
        ],
    }
    return {
        "picked": picked,
        "rows_by": rows_by,
        "period_options": picked.period_options(tenant.fiscal_year_start_month),
        "charts": {"won": chart},
        "tables": [table],
    }


@tenant_member_required
@require_GET
def reps(request: HttpRequest, slug: str) -> HttpResponse:
    req = tenant_request(request)
    return common.render_dashboard(req, "sales_ops/dashboard_reps.html", "reps", build(request))  # type: ignore[no-any-return]
