"""The dashboard pages per role: who sees which rows, 404s, CSV = table, exact query counts at two sizes,
"Recompute now" and its progress, the forecast category changed inline, the quotas grid."""

from __future__ import annotations

import pytest

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
