"""The dashboard pages per role: who sees which rows, 404s, CSV = table, exact query counts at two sizes,
"Recompute now" and its progress, the forecast category changed inline, the quotas grid."""

from __future__ import annotations

import csv
import io
import re

import pytest

from crm.models import Role
from tests.sales_ops.dashboard_seed import seed_people, seed_records

pytestmark = pytest.mark.django_db

PAGES = [
    "/t/alpha/dashboards/funnel/",
    "/t/alpha/dashboards/pipeline/",
    "/t/alpha/dashboards/reps/",
    "/t/alpha/dashboards/unit-economics/",
    "/t/alpha/dashboards/forecast/",
]


@pytest.fixture
def team(tenant):
    return seed_people(tenant)


@pytest.fixture
def data(tenant, team):
    return seed_records(tenant, team)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return response.content.decode()


@pytest.mark.parametrize("url", PAGES)
def test_pages_render_for_every_role(url, client_for, admin_member, team, data):
    for who in (admin_member, team["ops"], team["manager"], team["rep1"], team["cs"]):
        response = client_for(who).get(url)
        assert response.status_code == 200, (who.role, url)
        assert 'data-testid="as-of"' in _text(response)


def _csv(response) -> list[list[str]]:  # type: ignore[no-untyped-def]
    return list(csv.reader(io.StringIO(response.content.decode("utf-8-sig"))))


def _table_texts(html: str, key: str) -> list[list[str]]:
    """The header and cell texts of the table `key` on a page (tags stripped)."""
    block = html.split(f'data-testid="table-{key}"', 1)[1].split("</table>", 1)[0]
    # A table with no rows shows one line saying so ("kpi-empty"); its CSV is the header alone.
    rows = re.findall(r"<tr(?! class=\"kpi-empty\")[^>]*>(.*?)</tr>", block, re.S)
    out = []
    for row in rows:
        cells = re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        out.append([re.sub(r"<[^>]+>", "", cell).strip() for cell in cells])
    return out


def test_rep_sees_only_own_rows_in_the_leaderboard(client_for, team, data):
    html = _text(client_for(team["rep1"]).get("/t/alpha/dashboards/reps/"))
    assert "Rita Rep" in html
    assert "Wes West" not in html
    manager_html = _text(client_for(team["manager"]).get("/t/alpha/dashboards/reps/"))
    assert "Rita Rep" in manager_html and "Mia Manager" in manager_html
    assert "Wes West" not in manager_html
    ops_html = _text(client_for(team["ops"]).get("/t/alpha/dashboards/reps/"))
    assert "Rita Rep" in ops_html and "Wes West" in ops_html


def test_forecast_rows_follow_the_kpi_visibility(client_for, admin_member, team, data):
    ops = _text(client_for(team["ops"]).get("/t/alpha/dashboards/forecast/"))
    assert 'data-testid="forecast-who-team-West"' in ops and 'data-testid="forecast-who-team-East"' in ops
    manager = _text(client_for(team["manager"]).get("/t/alpha/dashboards/forecast/"))
    assert 'data-testid="forecast-who-team-East"' in manager
    assert 'data-testid="forecast-who-team-West"' not in manager
    assert "forecast-who-owner-rep2@dash.test" not in manager
    cs = _text(client_for(team["cs"]).get("/t/alpha/dashboards/forecast/"))
    assert 'data-testid="forecast-who-all-"' in cs
    assert "forecast-who-team-" not in cs and "forecast-who-owner-" not in cs
    rep = _text(client_for(team["rep1"]).get("/t/alpha/dashboards/forecast/"))
    assert "forecast-who-owner-rep1@dash.test" in rep and "forecast-who-owner-rep2@dash.test" not in rep


def test_forecast_numbers_and_quota_rules(client_for, team, data):
    html = _text(client_for(team["ops"]).get("/t/alpha/dashboards/forecast/"))
    # East: won 1,000 this month + commit deal 2,000; quota from its member rep1 (3,000): no team row.
    assert re.search(r'data-testid="forecast-forecast_commit-team-East"><a [^>]+>3,000.00<', html)
    assert re.search(
        r'data-testid="forecast-quota-team-East"><a href="/t/alpha/dashboards/drill/quota/[^"]+">3,000.00<',
        html,
    )
    # West has its own team row (2,500); the company has no tenant row: the sum of owner rows (5,000). Each quota
    # drills into the quota months and rows behind it.
    assert re.search(
        r'data-testid="forecast-quota-team-West"><a href="/t/alpha/dashboards/drill/quota/[^"]+">2,500.00<',
        html,
    )
    assert re.search(
        r'data-testid="forecast-quota-all-"><a href="/t/alpha/dashboards/drill/quota/[^"]+">5,000.00<', html
    )


def test_null_shows_a_dash_never_zero(client_for, team, data):
    html = _text(client_for(team["ops"]).get("/t/alpha/dashboards/unit-economics/"))
    assert re.search(r'data-testid="economics-nrr">—<', html)


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("/t/alpha/dashboards/funnel/?dimension=source_kind", "funnel"),
        ("/t/alpha/dashboards/funnel/", "funnel"),
        ("/t/alpha/dashboards/pipeline/", "summary"),
        ("/t/alpha/dashboards/pipeline/", "trends"),
        ("/t/alpha/dashboards/pipeline/", "close"),
        ("/t/alpha/dashboards/pipeline/", "stage"),
        ("/t/alpha/dashboards/reps/?rows=team", "leaderboard"),
        ("/t/alpha/dashboards/unit-economics/", "cac"),
        ("/t/alpha/dashboards/reps/?sort=calls_logged&dir=desc", "leaderboard"),
        ("/t/alpha/dashboards/unit-economics/", "trends"),
        ("/t/alpha/dashboards/forecast/", "forecast"),
    ],
)
def test_csv_export_is_the_table_on_screen(client_for, team, data, url, key):
    client = client_for(team["ops"])
    shown = _table_texts(_text(client.get(url)), key)
    joiner = "&" if "?" in url else "?"
    response = client.get(f"{url}{joiner}export={key}")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/csv")
    assert _csv(response) == shown


def test_unknown_export_is_404(client_for, team, data):
    assert client_for(team["ops"]).get("/t/alpha/dashboards/funnel/?export=nope").status_code == 404


def test_other_tenants_member_gets_404(client_for, other_tenant, team, data):
    from crm.models import Membership
    from crm.tenancy import tenant_context

    with tenant_context(other_tenant):
        outsider = Membership.objects.select_related("user").get(role=Role.ADMIN)
    client = client_for(outsider)
    for url in PAGES + ["/t/alpha/dashboards/quotas/"]:
        assert client.get(url).status_code == 404
    assert client.post("/t/alpha/dashboards/recompute/").status_code == 404


def test_quotas_grid_is_for_admin_ops_and_managers(client_for, admin_member, team, data):
    assert client_for(team["rep1"]).get("/t/alpha/dashboards/quotas/").status_code == 404
    assert client_for(team["cs"]).get("/t/alpha/dashboards/quotas/").status_code == 404
    for who in (admin_member, team["ops"], team["manager"]):
        assert client_for(who).get("/t/alpha/dashboards/quotas/").status_code == 200


def test_quotas_grid_saves_and_a_manager_edits_only_the_team(client_for, team, data, tenant):
    from crm.tenancy import tenant_context
    from sales_ops.models import Quota

    month = data["month"]
    rep1, rep2 = team["rep1"].user, team["rep2"].user
    client = client_for(team["manager"])
    html = _text(
        client.get(
            f"/t/alpha/dashboards/quotas/?year={month.year if tenant.fiscal_year_start_month <= month.month else month.year - 1}"
        )
    )
    assert f'name="q-owner-{rep1.pk}-{month:%Y-%m}"' in html
    assert f'name="q-owner-{rep2.pk}-{month:%Y-%m}"' not in html  # West: read only
    year = month.year if tenant.fiscal_year_start_month <= month.month else month.year - 1
    response = client.post(
        "/t/alpha/dashboards/quotas/",
        {"year": year, f"q-owner-{rep1.pk}-{month:%Y-%m}": "4,500", f"q-owner-{rep2.pk}-{month:%Y-%m}": "1"},
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Quota.objects.get(owner=rep1, month=month).amount == 4500
        assert Quota.objects.get(owner=rep2, month=month).amount == 2000  # not the manager's to change
    response = client.post(
        "/t/alpha/dashboards/quotas/", {"year": year, f"q-owner-{rep1.pk}-{month:%Y-%m}": "abc"}
    )
    assert response.status_code == 200
    assert "enter a number" in _text(response)
    client.post("/t/alpha/dashboards/quotas/", {"year": year, f"q-owner-{rep1.pk}-{month:%Y-%m}": ""})
    with tenant_context(tenant):
        assert not Quota.objects.filter(owner=rep1, month=month).exists()


def test_recompute_button_and_progress(client_for, team, data, tenant, django_capture_on_commit_callbacks):
    from crm.tenancy import tenant_context
    from sales_ops.models import KpiRecompute

    client = client_for(team["ops"])
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/t/alpha/dashboards/recompute/",
            {"next": "/t/alpha/dashboards/pipeline/"},
            HTTP_HX_REQUEST="true",
        )
    assert response.status_code == 200
    with tenant_context(tenant):
        job = KpiRecompute.objects.get()
    assert 'data-testid="recompute-progress"' in _text(response)
    assert job.status == "done"  # tasks run eagerly after commit in tests
    progress = client.get(f"/t/alpha/dashboards/recompute/{job.pk}/?next=/t/alpha/dashboards/pipeline/")
    assert 'data-testid="recompute-done"' in _text(progress)
    assert 'href="/t/alpha/dashboards/pipeline/"' in _text(progress)
    # No htmx: back to the page.
    assert client.post("/t/alpha/dashboards/recompute/", {"next": "/t/alpha/dashboards/reps/"}).url == (
        "/t/alpha/dashboards/reps/"
    )
    # Reps and cs cannot start one (the API's roles).
    assert client_for(team["rep1"]).post("/t/alpha/dashboards/recompute/").status_code == 404
    assert client_for(team["cs"]).get(f"/t/alpha/dashboards/recompute/{job.pk}/").status_code == 404


def test_running_job_shows_a_polling_progress_bar(client_for, team, data, tenant):
    from tests.factories import KpiRecomputeFactory

    job = KpiRecomputeFactory(tenant=tenant, status="running", progress=35)
    html = _text(client_for(team["ops"]).get("/t/alpha/dashboards/funnel/"))
    assert f"/t/alpha/dashboards/recompute/{job.pk}/" in html
    assert 'hx-trigger="every 1s"' in html and 'value="35"' in html


def test_stale_warning_follows_the_setting(client_for, team, data, tenant):
    from tests.factories import KpiSettingsFactory

    client = client_for(team["ops"])
    assert 'data-testid="stale-warning"' not in _text(client.get("/t/alpha/dashboards/funnel/"))
    KpiSettingsFactory(tenant=tenant, stale_after_minutes=0)
    assert 'data-testid="stale-warning"' in _text(client.get("/t/alpha/dashboards/funnel/"))


def test_manager_changes_a_forecast_category_inline(client_for, team, data, tenant):
    from crm.tenancy import tenant_context

    deal = data["deals"]["best"]
    client = client_for(team["manager"])
    url = f"/t/alpha/dashboards/forecast/deals/{deal.pk}/category/"
    response = client.post(
        url, {"version": deal.version, "forecast_category": "commit"}, HTTP_HX_REQUEST="true"
    )
    assert response.status_code == 200
    assert 'data-testid="forecast-saved"' in _text(response)
    with tenant_context(tenant):
        deal.refresh_from_db()
    assert deal.forecast_category == "commit"
    # A stale version: the conflict is said and the current category shown.
    stale = client.post(url, {"version": deal.version - 1, "forecast_category": "pipeline"})
    assert "Someone else changed this deal" in _text(stale)
    with tenant_context(tenant):
        deal.refresh_from_db()
    assert deal.forecast_category == "commit"
    # West's deal is not the East manager's: 404, like a missing deal; reps cannot touch others' deals.
    west = data["deals"]["west"]
    assert (
        client.post(
            f"/t/alpha/dashboards/forecast/deals/{west.pk}/category/",
            {"version": west.version, "forecast_category": "commit"},
        ).status_code
        == 404
    )
    assert (
        client_for(team["rep1"])
        .post(
            f"/t/alpha/dashboards/forecast/deals/{west.pk}/category/",
            {"version": west.version, "forecast_category": "commit"},
        )
        .status_code
        == 404
    )


def test_forecast_drill_down_lists_only_visible_deals(client_for, team, data):
    html = _text(client_for(team["manager"]).get("/t/alpha/dashboards/forecast/?scope=all:"))
    assert "Big commit" in html and "Maybe deal" in html
    assert "West deal" not in html
    ops = _text(client_for(team["ops"]).get("/t/alpha/dashboards/forecast/?scope=all:"))
    assert "West deal" in ops


def test_funnel_drill_down_links_to_the_leads_list(client_for, team, data):
    html = _text(
        client_for(team["ops"]).get("/t/alpha/dashboards/funnel/?dimension=source_kind&value=inbound")
    )
    link = re.search(r'data-testid="funnel-leads"><a href="([^"]+)"', html)
    assert link is not None
    assert "/t/alpha/leads/?" in link.group(1) and "source_kind=inbound" in link.group(1)


QUERY_PAGES = {
    "dashboards/funnel/": 13,
    "dashboards/funnel/?dimension=source_kind": 14,
    # 15: the open stages in board order for the "by stage" table (admin and ops read the stage rows).
    "dashboards/pipeline/": 15,
    "dashboards/reps/": 14,
    "dashboards/unit-economics/": 13,
    "dashboards/forecast/": 16,
    "dashboards/quotas/": 15,
}


def _count(client, url: str) -> int:  # type: ignore[no-untyped-def]
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with CaptureQueriesContext(connection) as queries:
        assert client.get(url).status_code == 200
    return len(queries)


def test_exact_query_counts_do_not_grow_with_the_data(client_for, team, data):
    from crm.models import Membership
    from crm.tenancy import tenant_context
    from tests.conftest import make_tenant

    big = make_tenant("gamma")
    big_team = seed_people(big, domain="big.test")
    seed_records(big, big_team, scale=4)
    with tenant_context(big):
        Membership.objects.get(user=big_team["ops"].user)
    small_client, big_client = client_for(team["ops"]), client_for(big_team["ops"])
    counts = {}
    for page in QUERY_PAGES:
        small = _count(small_client, f"/t/alpha/{page}")
        large = _count(big_client, f"/t/gamma/{page}")
        counts[page] = (small, large)
        assert small == large, page
    assert {page: small for page, (small, _large) in counts.items()} == QUERY_PAGES


def test_pipeline_by_stage_and_close_period(client_for, tenant, team, data):
    """The seed's open deals all sit in Qualification and close this month: 2,000 + 1,500 + 700 = 4,200,
    weighted 2,000 x 0.5 + 1,500 x 0.25 + 700 x 0.1 = 1,445; the other open stages have none (0.00, a group
    with no records); closed stages are not rows."""
    from accounts.models import Stage
    from crm.tenancy import tenant_context

    with tenant_context(tenant):
        qualification = Stage.objects.get(pipeline__is_default=True, name="Qualification")
    html = _text(client_for(team["ops"]).get("/t/alpha/dashboards/pipeline/"))
    rows = _table_texts(html, "stage")
    assert [row[0] for row in rows[1:]] == ["Qualification", "Needs analysis", "Proposal", "Negotiation"]
    assert rows[1][1] == "4,200.00" and rows[1][-1] == "1,445.00"
    assert rows[2][1] == "0.00" and rows[2][-1] == "0.00"
    # Nothing closes in the next five months: the engine's calendar ends with the last open deal's close
    # period, so those periods have no `all` row (null, "—") and the stages show "—" too, never 0.
    assert all(cell == "—" for cell in rows[1][2:-1])
    link = re.search(r'data-testid="stage-Qualification"><a href="([^"]+)"', html)
    assert link is not None
    assert f"stage={qualification.pk}" in link.group(1) and "status=open" in link.group(1)
    month = data["month"].isoformat()
    assert f"close_from={month}" in link.group(1)
    # The drill-down lists the three deals.
    listing = _text(client_for(team["ops"]).get(link.group(1).replace("&amp;", "&")))
    assert "Big commit" in listing and "Maybe deal" in listing and "West deal" in listing
    # A manager and a rep do not read the tenant's stage rows (the KPI API's rule): a note, no table.
    for who in ("manager", "rep1"):
        other = _text(client_for(team[who]).get("/t/alpha/dashboards/pipeline/"))
        assert 'data-testid="table-stage"' not in other and 'data-testid="stage-note"' in other
    # In 中文 the default stage names are translated.
    zh_client = client_for(team["ops"])
    zh_client.cookies["django_language"] = "zh-hans"
    zh = _text(zh_client.get("/t/alpha/dashboards/pipeline/", HTTP_ACCEPT_LANGUAGE="zh-hans"))
    assert "Qualification" not in _table_texts(zh, "stage")[1][0]


def _links(html: str, key: str) -> list[list[str]]:
    """The href of every cell of the table `key` ("" for a cell without a link), header left out."""
    block = html.split(f'data-testid="table-{key}"', 1)[1].split("</table>", 1)[0]
    body = block.split("<tbody>", 1)[1]
    out = []
    for row in re.findall(r"<tr[^>]*>(.*?)</tr>", body, re.S):
        cells = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
        out.append([(re.findall(r'href="([^"]+)"', cell) or [""])[0].replace("&amp;", "&") for cell in cells])
    return out


def test_every_number_drills_down(client_for, team, data):
    """Counts, rates, previous-period values and forecasts link to the records behind them; the funnel's
    previous period links to the leads created in the previous month."""
    import datetime

    client = client_for(team["ops"])
    month = data["month"]
    previous = (month - datetime.timedelta(days=1)).replace(day=1)
    funnel = _links(_text(client.get("/t/alpha/dashboards/funnel/")), "funnel")
    leads, mql = funnel[0], funnel[1]
    assert f"created_from={month.isoformat()}" in leads[1]  # count
    assert f"created_from={previous.isoformat()}" in leads[4]  # previous period's count
    assert mql[2] == mql[1] and "status=mql" in mql[2]  # the rate drills into the same leads as its count
    assert f"created_from={previous.isoformat()}" in mql[6] and "status=mql" in mql[6]  # previous rate
    pipeline_html = _text(client.get("/t/alpha/dashboards/pipeline/"))
    summary = _links(pipeline_html, "summary")
    velocity = summary[-1]
    assert "status=won" in velocity[1] and "status=won" in velocity[2]
    close = _links(pipeline_html, "close")[0]
    assert "status=open" in close[1] and "status=open" in close[2]
    assert close[3].startswith("/t/alpha/dashboards/forecast/?") and f"period={month.isoformat()}" in close[3]
    assert "scope=all" in close[3] and "grain=month" in close[4]
    forecast = _text(client.get(close[3]))
    assert "Big commit" in forecast
    # Unit economics: new and churned customers of a month open the lifecycle page's accounts of that flow.
    economics = _links(_text(client.get("/t/alpha/dashboards/unit-economics/")), "trends")
    assert economics[0][2] == (
        f"/t/alpha/lifecycle/accounts/?flow=new_customers&month={month.strftime('%Y-%m')}"
    )
    assert economics[0][3].endswith(f"flow=churned&month={month.strftime('%Y-%m')}")
    assert client.get(economics[0][2]).status_code == 200
    # A rep does not open the lifecycle lists: their numbers open the drill-down pages (their accounts only).
    rep_client = client_for(team["rep1"])
    rep = _links(_text(rep_client.get("/t/alpha/dashboards/unit-economics/")), "trends")
    query = f"?grain=month&period={month.isoformat()}&scope=all"
    assert rep[0][2] == f"/t/alpha/dashboards/drill/new_customers/{query}"
    assert rep[0][3] == f"/t/alpha/dashboards/drill/churned_customers/{query}"
    assert rep_client.get(rep[0][2]).status_code == 200


def test_rep_activity_numbers_drill_into_the_activity_list(client_for, tenant, team, data):
    """The seed gives rep1 one call and one email and rep2 one meeting in each of this and the previous month:
    rep1's calls this month is 1, and its link lists exactly that call (not last month's), done, by rep1."""
    from accounts.models import Activity
    from crm.tenancy import tenant_context

    client = client_for(team["ops"])
    html = _text(client.get("/t/alpha/dashboards/reps/"))
    table = _table_texts(html, "leaderboard")
    header = table[0]
    rita = next(row for row in table[1:] if row[0] == "Rita Rep")
    assert rita[header.index("Calls")] == "1" and rita[header.index("Emails")] == "1"
    links = _links(html, "leaderboard")
    rita_links = links[[row[0] for row in table[1:]].index("Rita Rep")]
    calls = rita_links[header.index("Calls")]
    assert calls.startswith("/t/alpha/activities/?kind=call&owner=")
    listing = _text(client.get(calls))
    with tenant_context(tenant):
        month = data["month"]
        this_call = Activity.objects.get(owner=team["rep1"].user, kind="call", occurred_at__date__gte=month)
    shown = re.findall(r'data-testid="activity-(\d+)"', listing)
    assert shown == [str(this_call.pk)]
    every = rita_links[header.index("Activities per working day")]
    assert len(re.findall(r'data-testid="activity-\d+"', _text(client.get(every)))) == 2  # call + email
    # Within visibility: rep1 following the link of rep2's meetings sees none of them.
    wes_links = links[[row[0] for row in table[1:]].index("Wes West")]
    meetings = wes_links[header.index("Meetings")]
    assert len(re.findall(r'data-testid="activity-\d+"', _text(client.get(meetings)))) == 1
    rep_view = client_for(team["rep1"]).get(meetings)
    assert rep_view.status_code in (200, 400)
    assert 'data-testid="activity-' not in _text(rep_view).replace('data-testid="activity-list"', "")


def test_activity_list_query_count_does_not_grow(client_for, team, data):
    from tests.conftest import make_tenant

    big = make_tenant("delta")
    big_team = seed_people(big, domain="big2.test")
    seed_records(big, big_team, scale=4, recompute=False)
    small = _count(client_for(team["ops"]), "/t/alpha/activities/?kind=call&done=true")
    large = _count(client_for(big_team["ops"]), "/t/delta/activities/?kind=call&done=true")
    assert small == large == ACTIVITY_LIST_QUERIES


# Session, user, tenant; savepoint, set_config of the tenant, membership; the activity rows (one statement,
# owner/account/contact/deal/lead joined); the base layout's memberships; set_config reset, release.
ACTIVITY_LIST_QUERIES = 10


def test_leaderboard_compares_with_the_previous_period(client_for, team, data):
    """Rita won 1,000 this month (closed on the 5th) and 800 last month (closed on the 6th): +200; Wes won 400
    this month and nothing last month (a group with no records reads 0): +400."""
    html = _text(client_for(team["ops"]).get("/t/alpha/dashboards/reps/"))
    table = _table_texts(html, "leaderboard")
    header = table[0]
    rows = {row[0]: row for row in table[1:]}
    previous, change = header.index("Change") - 1, header.index("Change")
    assert header[previous].startswith("Won, ")
    assert rows["Rita Rep"][header.index("Won amount")] == "1,000.00"
    assert rows["Rita Rep"][previous] == "800.00" and rows["Rita Rep"][change] == "+200.00"
    assert rows["Wes West"][previous] == "0.00" and rows["Wes West"][change] == "+400.00"
    links = _links(html, "leaderboard")
    rita = links[[row[0] for row in table[1:]].index("Rita Rep")]
    assert "status=won" in rita[previous]
    listing = _text(client_for(team["ops"]).get(rita[previous]))
    assert listing.count('href="/t/alpha/deals/') >= 1
