"""Issue 12 item 3: My tasks is paged: every bucket shows its full count and its first 20 tasks, and "Show more"
brings the next ones (htmx: the next rows and button; without htmx: the page with the bucket shown up to there).
"Upcoming (30 days)" is no longer cut at 100 without a word. Query counts do not grow with the tasks."""

from __future__ import annotations

import datetime
import re

import pytest
from django.urls import reverse

from accounts.models import Activity, ActivityKind
from crm.dates import tenant_today
from crm.tenancy import tenant_context
from tests.factories_deals import deal_account

pytestmark = pytest.mark.django_db


def _url(tenant, query=""):
    return reverse("accounts:task-list", kwargs={"slug": tenant.slug}) + query


def _tasks(tenant, owner, *, upcoming=0, overdue=0, later=0, undated=0):
    """Open tasks of `owner` in the tenant's days: upcoming in 2..29 days, overdue 3 days ago, later in 60 days."""
    account = deal_account(tenant, owner=owner)
    today = tenant_today(tenant)
    noon = datetime.time(12, 0, tzinfo=tenant.tzinfo)

    def at(days):
        return datetime.datetime.combine(today + datetime.timedelta(days=days), noon)

    rows = [(f"Upcoming {n:03d}", at(2 + n % 28)) for n in range(upcoming)]
    rows += [(f"Overdue {n:03d}", at(-3)) for n in range(overdue)]
    rows += [(f"Later {n:03d}", at(60)) for n in range(later)]
    rows += [(f"Undated {n:03d}", None) for n in range(undated)]
    with tenant_context(tenant):
        Activity.objects.bulk_create(
            Activity(
                tenant=tenant,
                kind=ActivityKind.TASK,
                subject=subject,
                owner=owner,
                account=account,
                due_at=due,
                done=False,
            )
            for subject, due in rows
        )


def _section(body, key):
    return body.split(f'data-testid="tasks-{key}"')[1].split("</section>")[0]


def test_every_bucket_shows_its_count_and_a_first_page(tenant, admin_member, client_for):
    _tasks(tenant, admin_member.user, upcoming=130, overdue=3, later=25, undated=1)
    body = client_for(admin_member).get(_url(tenant)).content.decode()
    counts = {
        key: re.search(r'data-testid="tasks-count">(\d+)<', _section(body, key)).group(1)
        for key in ("overdue", "today", "upcoming", "later", "none")
    }
    assert counts == {"overdue": "3", "today": "0", "upcoming": "130", "later": "25", "none": "1"}
    upcoming = _section(body, "upcoming")
    assert upcoming.count('data-testid="task-row"') == 20
    assert "Show more (20 of 130 shown)" in upcoming
    assert f'hx-get="/t/{tenant.slug}/tasks/?bucket=upcoming&amp;offset=20"' in upcoming
    assert _section(body, "later").count('data-testid="task-row"') == 20
    assert "Show more (20 of 25 shown)" in _section(body, "later")
    assert 'data-testid="tasks-more"' not in _section(body, "overdue")


def test_show_more_brings_the_next_rows_until_the_end(tenant, admin_member, client_for):
    _tasks(tenant, admin_member.user, upcoming=130)
    client = client_for(admin_member)
    seen = []
    offset = 0
    while True:
        body = client.get(
            _url(tenant, f"?bucket=upcoming&offset={offset}"), HTTP_HX_REQUEST="true"
        ).content.decode()
        assert "<section" not in body and "<html" not in body
        seen += re.findall(r"Upcoming \d{3}", body)
        offset += body.count('data-testid="task-row"')
        if 'data-testid="tasks-show-more"' not in body:
            break
        assert f"Show more ({offset} of 130 shown)" in body
    assert offset == 130 and len(set(seen)) == 130


def test_show_more_without_htmx_shows_the_bucket_up_to_there(tenant, admin_member, client_for):
    _tasks(tenant, admin_member.user, upcoming=50, overdue=30)
    body = client_for(admin_member).get(_url(tenant, "?bucket=upcoming&offset=20")).content.decode()
    assert _section(body, "upcoming").count('data-testid="task-row"') == 40
    assert "Show more (40 of 50 shown)" in _section(body, "upcoming")
    assert _section(body, "overdue").count('data-testid="task-row"') == 20


@pytest.mark.parametrize("query", ["?bucket=soon", "?bucket=upcoming&offset=-1", "?bucket=upcoming&offset=x"])
def test_bad_bucket_or_offset_is_404(tenant, admin_member, client_for, query):
    assert client_for(admin_member).get(_url(tenant, query)).status_code == 404


def test_others_tasks_are_not_counted(tenant, admin_member, member, client_for):
    _tasks(tenant, member().user, upcoming=5)
    body = client_for(admin_member).get(_url(tenant)).content.decode()
    assert re.search(r'data-testid="tasks-count">(\d+)<', _section(body, "upcoming")).group(1) == "0"


@pytest.mark.parametrize("size", [1, 3])
def test_query_counts_do_not_grow(tenant, admin_member, client_for, django_assert_num_queries, size):
    _tasks(tenant, admin_member.user, upcoming=30 * size, overdue=size, later=size, undated=size)
    client = client_for(admin_member)
    client.get(_url(tenant))
    # Session, user, tenant, tenant context, membership; the bucket counts (one aggregate); a page per non-empty
    # bucket (4 here: today is empty); the sidebar; savepoint, context reset and release.
    with django_assert_num_queries(14):
        client.get(_url(tenant))
    with django_assert_num_queries(10):  # the fixed cost, the counts, one page
        client.get(_url(tenant, "?bucket=upcoming&offset=20"), HTTP_HX_REQUEST="true")
