"""The global search's index (issue 12): crm_search_entry kept by PostgreSQL triggers on leads, accounts, contacts
and deals, and read through the SECURITY DEFINER function crm_search_ids(), which takes the tenant from
`app.tenant_id` alone (crm/search_index.py)."""

from __future__ import annotations

import importlib
import random

import pytest
from django.db import connection, transaction

from accounts.services import accounts as account_services
from accounts.services import contacts as contact_services
from accounts.services import merges as account_merges
from accounts.services import opportunities as deal_services
from crm.models import Role
from crm.search import MATCH_CAP
from crm.search_index import OWNER_POLICY, TABLE
from crm.tenancy import tenant_context
from leads.models import Lead
from leads.services import leads as lead_services
from leads.services import merges as lead_merges
from leads.services import pool as lead_pool
from tests.factories import MembershipFactory, TeamFactory, UserFactory
from tests.factories_accounts import AccountFactory, ContactFactory
from tests.factories_deals import OpportunityFactory
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


def _entry(kind: str, record_id: int) -> tuple | None:
    """(owner_id, text, grams) of the record's entry, read as the app role in the current tenant."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT owner_id, text, grams FROM {TABLE} WHERE kind = %s AND record_id = %s",  # noqa: S608
            [kind, record_id],
        )
        return cursor.fetchone()


def _ids(kind: str, *terms: str, limit: int = 50, owners: list[int] | None = None, unowned=False, others=0):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT * FROM crm_search_ids(%s, %s::text[], %s, %s::bigint[], %s, %s)",
            [kind, list(terms), limit, owners, unowned, others],
        )
        return {row[0] for row in cursor.fetchall()}


@pytest.fixture
def people(tenant, admin_member):
    with tenant_context(tenant):
        east = TeamFactory(tenant=tenant, name="East")
        made = {"admin": admin_member}
        for key, role, team in [
            ("manager", Role.SALES_MANAGER, east),
            ("rep", Role.SALES_REP, east),
            ("rep2", Role.SALES_REP, east),
            ("west_rep", Role.SALES_REP, None),
        ]:
            made[key] = MembershipFactory(tenant=tenant, user=UserFactory(), role=role, team=team)
        return made


def test_the_function_reads_the_index_as_the_table_owner():
    """The owner's permissive policy (USING true) exists, so inside the SECURITY DEFINER function the tenant
    policy does not stop the trigram index; the table is still under FORCE row-level security."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT relrowsecurity, relforcerowsecurity, pg_get_userbyid(relowner) FROM pg_class WHERE relname = %s",
            [TABLE],
        )
        enabled, forced, owner = cursor.fetchone()
        assert enabled and forced
        cursor.execute(
            "SELECT polname, array(SELECT rolname FROM pg_roles WHERE oid = ANY(polroles)) FROM pg_policy "
            "WHERE polrelid = %s::regclass ORDER BY polname",
            [TABLE],
        )
        policies = dict(cursor.fetchall())
        assert policies == {OWNER_POLICY: [owner], "tenant_isolation": []}
        assert owner != connection.settings_dict["USER"]  # the app role does not get the owner's policy
        cursor.execute(
            "SELECT prosecdef, pg_get_userbyid(proowner) FROM pg_proc WHERE proname = 'crm_search_ids'"
        )
        assert cursor.fetchone() == (True, owner)


def test_lead_entries_follow_create_update_owner_soft_delete_restore_merge_and_delete(tenant, people):
    admin, rep = people["admin"].user, people["rep"].user
    with tenant_context(tenant):
        lead = LeadFactory(
            tenant=tenant, first_name="Wei", last_name="Zhang", company="Tyrell", phone="+86 138-0000-1111"
        )
        owner_id, text, grams = _entry("lead", lead.pk)
        assert "wei zhang" in text and "tyrell" in text and "8613800001111" in text and grams == []
        lead = lead_services.lead_update(
            tenant=tenant, actor=admin, lead=lead, version=None, company="深圳华为"
        )
        lead = lead_pool.lead_assign(tenant=tenant, actor=admin, lead=lead, owner=rep)
        owner_id, text, grams = _entry("lead", lead.pk)
        assert owner_id == rep.pk and "深圳华为" in text and "tyrell" not in text
        assert set(grams) == {"深", "圳", "华", "为", "深圳", "圳华", "华为"}
        lead_services.lead_delete(tenant=tenant, actor=admin, lead=lead)
        assert _entry("lead", lead.pk) is None
        lead.refresh_from_db()
        lead_services.lead_restore(tenant=tenant, actor=admin, lead=lead)
        assert _entry("lead", lead.pk) is not None

        survivor = LeadFactory(tenant=tenant, first_name="Wei", last_name="Zhang", company="Tyrell")
        record = lead_merges.lead_merge(tenant=tenant, actor=admin, survivor=survivor, merged=lead)
        assert _entry("lead", lead.pk) is None and _entry("lead", survivor.pk) is not None
        lead_merges.lead_merge_undo(tenant=tenant, actor=admin, record=record)
        assert _entry("lead", lead.pk) is not None

        gone = LeadFactory(tenant=tenant, first_name="Hard", last_name="Delete")
        assert _entry("lead", gone.pk) is not None
        Lead.objects.filter(pk=gone.pk).delete()
        assert _entry("lead", gone.pk) is None


def test_account_contact_and_deal_entries_follow_their_records(tenant, people):
    admin, rep = people["admin"].user, people["rep"].user
    with tenant_context(tenant):
        account = AccountFactory(tenant=tenant, name="Tyrell Robotics", domain="tyrell.test", owner=rep)
        contact = ContactFactory(
            account=account, first_name="Anna", last_name="Schmidt", phone="+49 30 1234 567"
        )
        deal = OpportunityFactory(account=account, name="Robots for Shanghai", owner=rep)
        assert "tyrell robotics" in _entry("account", account.pk)[1]
        assert (
            "anna schmidt" in _entry("contact", contact.pk)[1]
            and "49301234567" in _entry("contact", contact.pk)[1]
        )
        owner_id, text, _grams = _entry("deal", deal.pk)
        assert owner_id == rep.pk and "robots for shanghai" in text and "tyrell robotics" in text

        # Renaming the account rewrites its deals' entries (a deal is found by its account's name).
        account = account_services.account_update(
            tenant=tenant, actor=admin, account=account, version=None, name="华为技术"
        )
        assert "华为技术" in _entry("account", account.pk)[1]
        assert (
            "华为技术" in _entry("deal", deal.pk)[1] and "tyrell robotics" not in _entry("deal", deal.pk)[1]
        )
        assert "华为" in _entry("deal", deal.pk)[2]

        contact = contact_services.contact_update(
            tenant=tenant, actor=admin, contact=contact, version=None, first_name="Anne"
        )
        assert "anne schmidt" in _entry("contact", contact.pk)[1]
        deal = deal_services.opportunity_update(
            tenant=tenant, actor=admin, opportunity=deal, version=None, name="Androids"
        )
        assert "androids" in _entry("deal", deal.pk)[1]

        deal_services.opportunity_delete(tenant=tenant, actor=admin, opportunity=deal)
        assert _entry("deal", deal.pk) is None
        deal.refresh_from_db()
        deal_services.opportunity_restore(tenant=tenant, actor=admin, opportunity=deal)
        assert _entry("deal", deal.pk) is not None
        contact_services.contact_delete(tenant=tenant, actor=admin, contact=contact)
        assert _entry("contact", contact.pk) is None

        # A merge soft-deletes the merged account (its entry goes), moves its deals (their entries now hold
        # the survivor's name) and an undo brings it back.
        survivor = AccountFactory(tenant=tenant, name="Survivor Holdings")
        record = account_merges.account_merge(tenant=tenant, actor=admin, survivor=survivor, merged=account)
        assert _entry("account", account.pk) is None and _entry("account", survivor.pk) is not None
        assert "survivor holdings" in _entry("deal", deal.pk)[1]
        account_merges.merge_undo(tenant=tenant, actor=admin, merge_record=record)
        assert _entry("account", account.pk) is not None
        assert "华为技术" in _entry("deal", deal.pk)[1]

        account_services.account_delete(tenant=tenant, actor=admin, account=survivor)
        assert _entry("account", survivor.pk) is None


def test_function_fails_closed_without_a_tenant_and_never_returns_another_tenants_ids(tenant, other_tenant):
    with tenant_context(tenant):
        mine = LeadFactory(tenant=tenant, first_name="Zeta", last_name="Mine").pk
        assert _ids("lead", "zeta") == {mine}
    with tenant_context(other_tenant):
        theirs = LeadFactory(tenant=other_tenant, first_name="Zeta", last_name="Theirs").pk
        assert _ids("lead", "zeta") == {theirs}
    with tenant_context(tenant):
        assert _ids("lead", "zeta") == {mine}
        assert _ids("lead", "theirs") == set()
    # No tenant in the transaction (nothing set, or set to ''): nothing, whatever the arguments.
    with transaction.atomic():
        assert _ids("lead", "zeta") == set()
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('app.tenant_id', '', true)")
        assert _ids("lead", "zeta", owners=[1, 2, 3], unowned=True, others=10) == set()
    # The app role reading the table directly is bound by row-level security: nothing without a tenant.
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(f"SELECT count(*) FROM {TABLE}")  # noqa: S608
        assert cursor.fetchone() == (0,)


def test_terms_are_matched_as_substrings_not_patterns(tenant):
    with tenant_context(tenant):
        plain = LeadFactory(tenant=tenant, first_name="Ab", last_name="Cd", email="abxcd@example.test").pk
        literal = LeadFactory(tenant=tenant, first_name="A_b", last_name="100%", email="").pk
        assert _ids("lead", "a_b") == {literal}  # _ is not a wildcard
        assert _ids("lead", "100%") == {literal}
        assert _ids("lead", "ab%cd") == set()
        assert plain in _ids("lead", "abxcd")
        assert _ids("lead", "ABXCD") == {plain}  # lower-cased in the function too
        assert _ids("lead", "   ") == set() and _ids("account", "abxcd") == set()


def test_two_letters_match_where_a_word_starts(tenant):
    """One or two Latin letters or digits have no trigram: they match at the start of a word (the text's, after a
    space, a dot, an @ or a hyphen), which the trigram index can serve; longer terms match anywhere."""
    with tenant_context(tenant):
        wei = LeadFactory(
            tenant=tenant,
            first_name="Wei",
            last_name="Zhang",
            company="Tyrell-Robotics",
            email="wei.zhang@x.test",
        ).pk
        other = LeadFactory(tenant=tenant, first_name="Oliver", last_name="Smith", company="", email="").pk
        assert _ids("lead", "zh") == {wei}  # "zhang" starts a word
        assert _ids("lead", "we") == {wei}  # the text starts with it
        assert _ids("lead", "ro") == {wei}  # after a hyphen
        assert _ids("lead", "ei") == set()  # inside "wei" only
        assert _ids("lead", "li") == set()  # inside "oliver" only
        assert _ids("lead", "liv") == {other}  # three letters: anywhere


def test_chinese_one_and_two_character_terms_and_phone_digits(tenant, people, api_client_for):
    admin = people["admin"]
    with tenant_context(tenant):
        zhang = LeadFactory(
            tenant=tenant, first_name="伟", last_name="张", company="深圳华为技术", phone="+86 138-0000-1111"
        )
        LeadFactory(tenant=tenant, first_name="娜", last_name="李", company="阿里巴巴", phone="")
        account = AccountFactory(tenant=tenant, name="华为", domain="")
        contact = ContactFactory(
            account=account, first_name="伟", last_name="张", phone="0755 2878 0808", email=""
        )
        assert _ids("lead", "张") == {zhang.pk}
        assert _ids("lead", "华") == {zhang.pk}
        assert _ids("lead", "华为") == {zhang.pk}
        assert _ids("lead", "为深") == set()  # not adjacent in the text
        assert _ids("lead", "张伟", "伟 张") == {zhang.pk}  # surname first, as typed, and as stored
        assert _ids("account", "华") == {account.pk}
        assert _ids("contact", "07552878") == {contact.pk}

    def titles(q: str, kind: str) -> list[str]:
        response = api_client_for(admin).get(f"/api/v1/t/{tenant.slug}/search/", {"q": q})
        return [hit["title"] for g in response.json()["groups"] if g["kind"] == kind for hit in g["results"]]

    assert titles("张", "lead") == ["张伟"]
    assert titles("张伟", "lead") == ["张伟"] and titles("张伟", "contact") == ["张伟"]
    assert titles("巴巴", "lead") == ["李娜"]
    assert titles("华", "account") == ["华为"]
    assert titles("138 0000 1111", "lead") == ["张伟"]  # seven digits or more: the phone tail path
    assert titles("0755 2878", "contact") == ["张伟"]  # digits through the index


def test_a_reps_matches_are_found_when_colleagues_own_the_first_ones(tenant, people, api_client_for):
    """More matches than the candidate limit, all but one a colleague's: the rep still gets theirs (the owners'
    part of the function has its own LIMIT), the manager sees the team's, nobody sees another team's."""
    rep, rep2, west = people["rep"].user, people["rep2"].user, people["west_rep"].user
    with tenant_context(tenant):
        for n in range(60):
            LeadFactory(tenant=tenant, first_name="Quokka", last_name=f"West{n}", owner=west)
        account = AccountFactory(tenant=tenant, name="Quokka West Account", owner=west)
        for n in range(60):
            OpportunityFactory(account=account, name=f"Quokka west deal {n}", owner=west)
        mine = LeadFactory(tenant=tenant, first_name="Quokka", last_name="Mine", owner=rep).pk
        LeadFactory(tenant=tenant, first_name="Quokka", last_name="Teammate", owner=rep2)
        my_account = AccountFactory(tenant=tenant, name="Quokka Mine Account", owner=rep)
        OpportunityFactory(account=my_account, name="Quokka my deal", owner=rep)
        # The function's parts: the owners' matches, then (here none) the pool's, then others up to the cap.
        assert _ids("lead", "quokka", limit=5, owners=[rep.pk]) == {mine}
        assert len(_ids("lead", "quokka", limit=5, owners=[rep.pk], others=10)) == 11
        assert len(_ids("lead", "quokka", limit=5)) == 5
        assert MATCH_CAP < 5000  # the function's own ceiling

    def titles(membership, kind: str) -> list[str]:
        response = api_client_for(membership).get(f"/api/v1/t/{tenant.slug}/search/", {"q": "quokka"})
        return sorted(
            hit["title"] for g in response.json()["groups"] if g["kind"] == kind for hit in g["results"]
        )

    assert titles(people["rep"], "lead") == ["Quokka Mine"]
    assert titles(people["rep"], "deal") == ["Quokka my deal"]
    assert titles(people["rep"], "account") == ["Quokka Mine Account"]
    assert titles(people["manager"], "lead") == ["Quokka Mine", "Quokka Teammate"]
    assert titles(people["manager"], "deal") == ["Quokka my deal"]
    assert len(titles(people["admin"], "lead")) == 5
    west_titles = titles(people["west_rep"], "lead")
    assert len(west_titles) == 5 and all(title.startswith("Quokka West") for title in west_titles)


def test_the_grams_function_gives_what_the_sql_function_it_replaced_gave():
    """crm 0008 rewrote crm_search_grams() in PL/pgSQL; for any text it gives the grams crm 0007's SQL function
    gave (the stored entries were not rewritten), and a text holding no CJK character has none."""
    migration = importlib.import_module("crm.migrations.0008_search_grams_plpgsql")
    old = migration.SQL_GRAMS_FUNCTION.replace("FUNCTION crm_search_grams(", "FUNCTION pg_temp.old_grams(")
    old = old.replace("SET search_path = pg_catalog", "")
    rng = random.Random(12)
    alphabet = "深圳华为腾讯东京タワーの서울豈aZ 9-@.（）ａ"
    texts = [
        None,
        "",
        "wei zhang tyrell 8613800001111",
        "深圳华为",
        "华为华为 华",
        "ａｂ 東京タワー 서울 豈 x中y文z",
        "\u3040\u30ff\u3400\u4dbf\u4e00\u9fff\uac00\ud7af\uf900\ufaff\u303f\u4dc0\ud7b0",
    ]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 30))) for _ in range(200)]
    with connection.cursor() as cursor:
        cursor.execute(old)
        cursor.execute(
            "SELECT t, crm_search_grams(t), pg_temp.old_grams(t) FROM unnest(%s::text[]) AS t", [texts]
        )
        rows = cursor.fetchall()
    assert len(rows) == len(texts)
    assert [(text, new) for text, new, _old in rows] == [(text, old) for text, _new, old in rows]
    new_grams = {text: new for text, new, _old in rows}
    assert new_grams["wei zhang tyrell 8613800001111"] == []
    assert len(new_grams["华为华为 华"]) == 4 and set(new_grams["华为华为 华"]) == {
        "华",
        "为",
        "华为",
        "为华",
    }
