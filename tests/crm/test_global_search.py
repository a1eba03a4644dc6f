"""Global search (issue 12): the top bar's search, its results page and GET /api/v1/t/<slug>/search/."""

from __future__ import annotations

import pytest

from crm.models import Role
from crm.search import name_variants, parse_query
from crm.tenancy import tenant_context
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_deals import OpportunityFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def people(tenant, admin_member):
    """A team East with a manager and two reps, a rep of team West, an ops and a cs member."""
    with tenant_context(tenant):
        east = TeamFactory(tenant=tenant, name="East")
        west = TeamFactory(tenant=tenant, name="West")
        made = {"admin": admin_member}
        for key, role, team in [
            ("manager", Role.SALES_MANAGER, east),
            ("rep", Role.SALES_REP, east),
            ("rep2", Role.SALES_REP, east),
            ("west_rep", Role.SALES_REP, west),
            ("ops", Role.OPS, None),
            ("cs", Role.CS, None),
        ]:
            made[key] = MembershipFactory(tenant=tenant, user=UserFactory(), role=role, team=team)
        return made


def _titles(groups: list[dict], kind: str) -> list[str]:
    return [hit["title"] for group in groups if group["kind"] == kind for hit in group["results"]]


def _api(api_client_for, membership, q: str) -> list[dict]:
    response = api_client_for(membership).get(f"/api/v1/t/{membership.tenant.slug}/search/", {"q": q})
    assert response.status_code == 200, response.content
    return response.json()["groups"]


def test_parse_query_reads_phone_numbers_as_digits():
    assert parse_query("138 0000 1111").needle == "13800001111"
    assert parse_query("+86 (138) 0000-1111").needle == "8613800001111"
    assert parse_query("  Zhang   WEI ").needle == "zhang wei"
    assert parse_query("2026").needle == "2026"  # four digits: not a phone number, searched as typed
    assert not parse_query("z").searchable
    assert parse_query("张").searchable
    assert name_variants("张伟") == ["张伟", "伟 张"]
    assert name_variants("欧阳娜娜") == ["欧阳娜娜", "阳娜娜 欧", "娜娜 欧阳"]
    assert name_variants("zhang wei") == ["zhang wei"]


def test_finds_every_kind_by_name_company_email_and_phone_digits(tenant, people, api_client_for):
    admin = people["admin"]
    with tenant_context(tenant):
        LeadFactory(
            tenant=tenant,
            first_name="Wei",
            last_name="Zhang",
            company="Tyrell Robotics",
            email="wei.zhang@tyrell.test",
            phone="+86 138-0000-1111",
        )
        account = AccountFactory(tenant=tenant, name="Tyrell Robotics GmbH", domain="tyrell.test")
        ContactFactory(account=account, first_name="Anna", last_name="Schmidt", phone="+86 138-0000-1111")
        OpportunityFactory(account=account, name="Robots for Shanghai")
    groups = _api(api_client_for, admin, "tyrell")
    assert _titles(groups, "lead") == ["Wei Zhang"]
    assert _titles(groups, "account") == ["Tyrell Robotics GmbH"]
    assert _titles(groups, "deal") == ["Robots for Shanghai"]  # by its account's name, as the deal list's q
    for query in ("13800001111", "138 0000 1111", "138-0000-1111"):
        groups = _api(api_client_for, admin, query)
        assert _titles(groups, "lead") == ["Wei Zhang"], query
        assert _titles(groups, "contact") == ["Anna Schmidt"], query
        assert [group["kind"] for group in groups] == ["lead", "contact"]  # accounts and deals have no phones
    assert _titles(_api(api_client_for, admin, "WEI.ZHANG@tyrell"), "lead") == ["Wei Zhang"]
    assert _titles(_api(api_client_for, admin, "shanghai"), "deal") == ["Robots for Shanghai"]


def test_chinese_names_and_companies(tenant, people, api_client_for):
    admin = people["admin"]
    with tenant_context(tenant):
        LeadFactory(tenant=tenant, first_name="伟", last_name="张", company="深圳华为技术有限公司", email="")
        account = AccountFactory(tenant=tenant, name="华为技术有限公司", domain="")
        ContactFactory(account=account, first_name="娜娜", last_name="欧阳", email="")
        OpportunityFactory(account=account, name="华为 年度框架协议")
    assert _titles(_api(api_client_for, admin, "张伟"), "lead") == ["张伟"]
    assert _titles(_api(api_client_for, admin, "张"), "lead") == ["张伟"]
    groups = _api(api_client_for, admin, "华为")
    assert _titles(groups, "lead") == ["张伟"]
    assert _titles(groups, "account") == ["华为技术有限公司"]
    assert _titles(groups, "deal") == ["华为 年度框架协议"]
    assert _titles(_api(api_client_for, admin, "欧阳娜娜"), "contact") == ["欧阳娜娜"]


def test_see_all_of_a_chinese_name_finds_it_on_the_list_pages(tenant, people, api_client_for, client_for):
    admin = people["admin"]
    with tenant_context(tenant):
        LeadFactory(tenant=tenant, first_name="伟", last_name="张", company="华为")
        ContactFactory(account=AccountFactory(tenant=tenant), first_name="伟", last_name="张", email="")
    groups = {group["kind"]: group for group in _api(api_client_for, admin, "张伟")}
    for kind in ("lead", "contact"):
        page = client_for(admin).get(groups[kind]["see_all_url"])
        assert page.status_code == 200 and "张伟" in page.content.decode(), kind


def test_another_tenants_records_never_appear(tenant, other_tenant, people, api_client_for, client_for):
    with tenant_context(other_tenant):
        account = AccountFactory(tenant=other_tenant, name="Foreign Zeta Corp")
        LeadFactory(tenant=other_tenant, first_name="Zeta", last_name="Foreign", phone="+86 139-9999-0000")
        ContactFactory(account=account, first_name="Zeta", last_name="Contact", phone="+86 139-9999-0000")
        OpportunityFactory(account=account, name="Zeta deal")
    admin = people["admin"]
    for query in ("zeta", "13999990000", "foreign"):
        assert not any(group["results"] for group in _api(api_client_for, admin, query)), query
        page = client_for(admin).get(f"/t/{tenant.slug}/search/", {"q": query})
        assert page.status_code == 200
        assert "Zeta" not in page.content.decode()
    # The other tenant's search is a 404 for a member of this one (page and API).
    assert client_for(admin).get(f"/t/{other_tenant.slug}/search/", {"q": "zeta"}).status_code == 404
    response = api_client_for(admin).get(f"/api/v1/t/{other_tenant.slug}/search/", {"q": "zeta"})
    assert response.status_code == 404


def test_each_role_finds_what_its_list_pages_show(tenant, people, api_client_for):
    rep, rep2, west_rep = people["rep"].user, people["rep2"].user, people["west_rep"].user
    with tenant_context(tenant):
        LeadFactory(tenant=tenant, first_name="Quill", last_name="Mine", owner=rep)
        LeadFactory(tenant=tenant, first_name="Quill", last_name="Teammate", owner=rep2)
        LeadFactory(tenant=tenant, first_name="Quill", last_name="West", owner=west_rep)
        LeadFactory(tenant=tenant, first_name="Quill", last_name="Pool", owner=None)
        mine = AccountFactory(tenant=tenant, name="Quill Mine Account", owner=rep)
        teammates = AccountFactory(tenant=tenant, name="Quill Teammate Account", owner=rep2)
        AccountFactory(tenant=tenant, name="Quill West Account", owner=west_rep)
        ContactFactory(account=mine, first_name="Quill", last_name="Mine Contact")
        ContactFactory(account=teammates, first_name="Quill", last_name="Teammate Contact")
        OpportunityFactory(account=mine, name="Quill mine deal", owner=rep)
        OpportunityFactory(account=teammates, name="Quill teammate deal", owner=rep2)
    groups = _api(api_client_for, people["rep"], "quill")
    assert sorted(_titles(groups, "lead")) == [
        "Quill Mine",
        "Quill Pool",
    ]  # own and the pool, as lead_queryset
    assert _titles(groups, "account") == ["Quill Mine Account"]
    assert _titles(groups, "contact") == ["Quill Mine Contact"]
    assert _titles(groups, "deal") == ["Quill mine deal"]
    groups = _api(api_client_for, people["manager"], "quill")
    assert sorted(_titles(groups, "lead")) == ["Quill Mine", "Quill Pool", "Quill Teammate"]
    assert sorted(_titles(groups, "account")) == ["Quill Mine Account", "Quill Teammate Account"]
    assert len(_titles(_api(api_client_for, people["admin"], "quill"), "lead")) == 4
    assert len(_titles(_api(api_client_for, people["ops"], "quill"), "account")) == 3
    # cs has no lead pages: no leads group at all; accounts only as the cs visibility rule allows.
    cs_groups = _api(api_client_for, people["cs"], "quill")
    assert [group["kind"] for group in cs_groups] == ["account", "contact", "deal"]


def test_groups_link_to_the_list_pages_with_the_query(tenant, people, api_client_for, client_for):
    with tenant_context(tenant):
        for n in range(7):
            AccountFactory(tenant=tenant, name=f"Kestrel {n}")
    groups = {g["kind"]: g for g in _api(api_client_for, people["manager"], "kestrel")}
    assert groups["account"]["results"] == [] and groups["account"]["more"] is False  # none is the team's
    groups = {g["kind"]: g for g in _api(api_client_for, people["admin"], "kestrel")}
    assert len(groups["account"]["results"]) == 5 and groups["account"]["more"] is True
    assert groups["account"]["see_all_url"] == f"/t/{tenant.slug}/accounts/?q=kestrel"
    assert groups["lead"]["see_all_url"] == f"/t/{tenant.slug}/leads/?q=kestrel"
    manager_leads = {g["kind"]: g for g in _api(api_client_for, people["manager"], "138 0000")}["lead"]
    assert manager_leads["see_all_url"] == f"/t/{tenant.slug}/leads/?scope=team&q=1380000"
    # The list page's own q search finds the same accounts.
    page = client_for(people["admin"]).get(groups["account"]["see_all_url"])
    assert page.content.decode().count("Kestrel ") >= 7


def test_results_page_and_dropdown_in_english_and_chinese(tenant, people, client_for):
    with tenant_context(tenant):
        LeadFactory(tenant=tenant, first_name="伟", last_name="张", company="华为")
    client = client_for(people["admin"])
    page = client.get(f"/t/{tenant.slug}/search/", {"q": "华为"})
    html = page.content.decode()
    assert page.status_code == 200 and "张伟" in html and 'data-testid="search-results"' in html
    assert "Leads" in html and "See all" not in html and "Open list" in html
    dropdown = client.get(f"/t/{tenant.slug}/search/", {"q": "华为", "dropdown": "1"}, HTTP_HX_REQUEST="true")
    assert "<html" not in dropdown.content.decode() and "张伟" in dropdown.content.decode()
    empty = client.get(f"/t/{tenant.slug}/search/", {"q": "nothing-like-this"}).content.decode()
    assert "Nothing found for “nothing-like-this”." in empty
    client.post("/language/", {"language": "zh-hans", "next": f"/t/{tenant.slug}/"})
    html = client.get(f"/t/{tenant.slug}/search/", {"q": "华为"}).content.decode()
    assert '<html lang="zh-hans">' in html and "线索" in html and "打开列表" in html
    assert "没有找到“无此记录”" in client.get(f"/t/{tenant.slug}/search/", {"q": "无此记录"}).content.decode()
    # Every page of the layout carries the search box.
    home = client.get(f"/t/{tenant.slug}/").content.decode()
    assert 'data-testid="global-search"' in home


def _world(tenant, people, n: int) -> None:
    rep = people["rep"].user
    with tenant_context(tenant):
        for i in range(n):
            account = AccountFactory(tenant=tenant, name=f"Falcon {i}", owner=rep)
            LeadFactory(tenant=tenant, first_name="Falcon", last_name=f"L{i}", owner=rep)
            ContactFactory(account=account, first_name="Falcon", last_name=f"C{i}")
            OpportunityFactory(account=account, name=f"Falcon deal {i}", owner=rep)


@pytest.mark.parametrize("n", [2, 12])
@pytest.mark.parametrize(
    ("role", "page_queries", "api_queries"),
    [("admin", 12, 12), ("manager", 17, 17), ("rep", 12, 12), ("cs", 11, 11)],
)
def test_query_count_is_bounded(
    tenant, people, client_for, api_client_for, django_assert_num_queries, n, role, page_queries, api_queries
):
    _world(tenant, people, n)
    membership = people[role]
    client = client_for(membership)
    api = api_client_for(membership)
    client.get(f"/t/{tenant.slug}/search/", {"q": "falcon"})  # warm the session and caches
    with django_assert_num_queries(page_queries):
        response = client.get(
            f"/t/{tenant.slug}/search/", {"q": "falcon", "dropdown": "1"}, HTTP_HX_REQUEST="true"
        )
    assert response.status_code == 200
    with django_assert_num_queries(api_queries):
        assert api.get(f"/api/v1/t/{tenant.slug}/search/", {"q": "falcon"}).status_code == 200
