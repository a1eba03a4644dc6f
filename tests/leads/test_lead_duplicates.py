"""Duplicate detection on index-friendly keys: the email as stored (lower-cased), the phone's last seven digits,
the normalized company name (bounded candidates, then trigram similarity); visibility; the data migration that
fills the keys of existing leads."""

from __future__ import annotations

import importlib
from types import SimpleNamespace

import pytest
from django.apps import apps as django_apps
from django.db import connection

from crm.models import Role
from crm.normalize import company_key
from crm.tenancy import tenant_context
from leads.models import Lead
from leads.selectors.duplicates import lead_duplicates, phone_tail
from leads.services import leads as services
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db


def test_services_keep_the_keys(tenant, admin_member, in_tenant):
    lead = services.lead_create(
        tenant=tenant,
        actor=admin_member.user,
        first_name="Lei",
        email="Wang.Lei@Huaxin.cn",
        phone="+86 (138) 0013-8000",
        company="Shanghai Huaxin Technology Co., Ltd.",
    )
    assert (lead.email, lead.phone_tail, lead.company_key) == (
        "wang.lei@huaxin.cn",
        "0138000",
        "SHANGHAI HUAXIN TECHNOLOGY",
    )
    services.lead_update(
        tenant=tenant, actor=admin_member.user, lead=lead, version=None, phone="", company="华信科技有限公司"
    )
    lead.refresh_from_db()
    assert (lead.phone_tail, lead.company_key) == ("", "华信科技")
    assert phone_tail("123 456") == ""  # too short to be a phone number worth matching


def test_phone_matches_with_or_without_country_code(tenant, admin_member, in_tenant):
    cn = LeadFactory(tenant=tenant, phone="+86 138 0000 1111", company="Alpha")
    de = LeadFactory(tenant=tenant, phone="+49 30 1234567", company="Beta")
    LeadFactory(tenant=tenant, phone="+86 139 1000 1111", company="Gamma")  # same tail, another number
    found = lead_duplicates(tenant=tenant, membership=admin_member, phone="138-0000-1111")
    assert [(d.lead.pk, d.same_phone) for d in found] == [(cn.pk, True)]
    found = lead_duplicates(tenant=tenant, membership=admin_member, phone="30 1234567")
    assert [d.lead.pk for d in found] == [de.pk]


def test_company_similarity_is_bounded_but_finds_neighbours(tenant, admin_member, in_tenant, monkeypatch):
    target = LeadFactory(tenant=tenant, company="Shenzhen Widgets Co., Ltd.")
    cjk = LeadFactory(tenant=tenant, company="上海华信科技股份有限公司")
    for number in range(30):
        LeadFactory(tenant=tenant, company=f"Shenzhen Aardvark {number:02d}")
    monkeypatch.setattr("leads.selectors.duplicates.COMPANY_WINDOW", 5)
    found = lead_duplicates(tenant=tenant, membership=admin_member, company="Shenzhen Widgets Ltd")
    assert found[0].lead.pk == target.pk and found[0].similarity == 1.0
    found = lead_duplicates(tenant=tenant, membership=admin_member, company="上海华信科技有限公司")
    assert [d.lead.pk for d in found] == [cjk.pk]
    assert lead_duplicates(tenant=tenant, membership=admin_member, company="Sh") == []  # too short to compare


def test_duplicates_respect_visibility(tenant, member, in_tenant):
    manager = member(role=Role.SALES_MANAGER, team="East")
    east_rep = member(team="East")
    west_rep = member(team="West")
    east = LeadFactory(tenant=tenant, owner=east_rep.user, email="dup@x.cn")
    west = LeadFactory(tenant=tenant, owner=west_rep.user, email="dup@x.cn")
    pooled = LeadFactory(tenant=tenant, owner=None, email="dup@x.cn")

    def found(membership):
        return {d.lead.pk for d in lead_duplicates(tenant=tenant, membership=membership, email="DUP@x.cn")}

    assert found(east_rep) == {east.pk, pooled.pk}
    assert found(manager) == {east.pk, pooled.pk}
    assert found(west_rep) == {west.pk, pooled.pk}
    assert found(member(role=Role.CS)) == set()
    assert found(member(role=Role.OPS)) == {east.pk, west.pk, pooled.pk}


def test_data_migration_fills_the_keys_of_every_tenant(tenant, other_tenant):
    migration = importlib.import_module("leads.migrations.0005_lead_duplicate_keys")
    leads = {}
    for current in (tenant, other_tenant):
        with tenant_context(current):
            lead = LeadFactory(tenant=current, phone="+86 138 0000 2222", company="Dragon Tech Ltd.")
            Lead.objects.filter(pk=lead.pk).update(phone_tail="", company_key="")
            leads[current.pk] = lead.pk
            events = Lead.pgh_event_model.objects.filter(pgh_obj_id=lead.pk).count()
    migration.fill_duplicate_keys(django_apps, SimpleNamespace(connection=connection))
    for current in (tenant, other_tenant):
        with tenant_context(current):
            lead = Lead.objects.get(pk=leads[current.pk])
            assert (lead.phone_tail, lead.company_key) == ("0002222", company_key("Dragon Tech Ltd."))
    with tenant_context(other_tenant):
        assert Lead.pgh_event_model.objects.filter(pgh_obj_id=leads[other_tenant.pk]).count() == events


def test_migration_recomputes_keys_stored_by_the_former_normalizer(tenant, other_tenant):
    """Keys written by the leads-only normalizer (legal words dropped anywhere) are rewritten to the shared one."""
    migration = importlib.import_module("leads.migrations.0006_company_keys_one_normalizer")
    stale = {"Globex Company": "GLOBEX COMPANY", "Acme Co Industries": "ACME INDUSTRIES"}
    ids = {}
    for current in (tenant, other_tenant):
        with tenant_context(current):
            for company, old_key in stale.items():
                lead = LeadFactory(tenant=current, company=company)
                Lead.objects.filter(pk=lead.pk).update(company_key=old_key)
                ids[lead.pk] = (current, company)
    migration.recompute_company_keys(django_apps, SimpleNamespace(connection=connection))
    for pk, (current, company) in ids.items():
        with tenant_context(current):
            assert Lead.objects.get(pk=pk).company_key == company_key(company)
    assert (
        company_key("Globex Company") == "GLOBEX"
        and company_key("Acme Co Industries") == "ACME CO INDUSTRIES"
    )
