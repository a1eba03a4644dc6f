"""Services of the records area: accounts, contacts, activities, money, merges, history."""

from __future__ import annotations

import datetime
from decimal import Decimal

import pytest
from django.core.exceptions import ValidationError
from django.utils import timezone

from accounts.selectors import activities as activities_selectors
from accounts.selectors import duplicates as duplicates_selectors
from accounts.selectors import history as history_selectors
from accounts.selectors import timeline as timeline_selectors
from accounts.selectors import visibility as visibility_selectors
from accounts.services import accounts as accounts_services
from accounts.services import activities as activities_services
from accounts.services import contacts as contacts_services
from accounts.services import merges as merges_services
from accounts.services import rates as rates_services
from crm import normalize as crm_normalize
from crm.errors import AppError, ConflictError
from crm.tenancy import tenant_context
from tests.factories import AccountFactory, ExchangeRateFactory, UserFactory

pytestmark = pytest.mark.django_db


def test_account_create_sets_search_text_and_owner(in_tenant, admin_member):
    account = accounts_services.account_create(
        tenant=in_tenant,
        actor=admin_member.user,
        name="  Acme  Industrial GmbH ",
        domain="https://www.Acme.com/x",
    )
    assert account.name == "Acme Industrial GmbH"
    assert account.domain == "acme.com"
    assert account.owner == admin_member.user
    assert account.search_text == "acme industrial gmbh acme.com"


def test_activity_log_defaults(in_tenant, admin_member):
    account = AccountFactory(tenant=in_tenant)
    call = activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="call", subject="Hi", account=account
    )
    assert call.done and call.occurred_at is not None and call.owner == admin_member.user
    task = activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="task", subject="Do", account=account
    )
    assert not task.done and task.occurred_at is None


def test_to_reporting(in_tenant):
    ExchangeRateFactory(tenant=in_tenant, currency="USD", valid_from=datetime.date(2025, 1, 1), rate="7")
    ExchangeRateFactory(tenant=in_tenant, currency="USD", valid_from=datetime.date(2025, 2, 1), rate="8")
    assert rates_services.to_reporting(
        tenant=in_tenant, amount=10, currency="USD", on_date=datetime.date(2025, 1, 15)
    ) == Decimal("70.00")
    assert rates_services.to_reporting(
        tenant=in_tenant, amount=10, currency="USD", on_date=datetime.date(2025, 3, 1)
    ) == Decimal("80.00")
    assert rates_services.to_reporting(
        tenant=in_tenant, amount=10, currency="USD", on_date=datetime.date(2024, 1, 1)
    ) == Decimal("70.00")
    assert rates_services.to_reporting(tenant=in_tenant, amount=10, currency="CNY", on_date=None) == Decimal(
        "10.00"
    )
    with pytest.raises(AppError):
        rates_services.to_reporting(tenant=in_tenant, amount=10, currency="JPY", on_date=None)


def test_history_and_timeline(in_tenant, admin_member):
    account = accounts_services.account_create(
        tenant=in_tenant, actor=admin_member.user, name="Acme", tier="standard"
    )
    accounts_services.account_update(
        tenant=in_tenant, actor=admin_member.user, account=account, version=1, tier="key", owner=None
    )
    with pytest.raises(ConflictError):
        accounts_services.account_update(
            tenant=in_tenant, actor=admin_member.user, account=account, version=1, name="X"
        )
    history = history_selectors.history_for(tenant=in_tenant, obj=account)
    assert [e.action for e in history] == ["created", "updated"]
    labels = {c[0]: (c[1], c[2]) for c in history[1].changes}
    assert labels["tier"] == ("Standard", "Key")
    assert labels["owner"] == (admin_member.user.display_name, None)
    assert history[1].who.pk == admin_member.user.pk
    activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="note", subject="N", account=account
    )
    timeline = timeline_selectors.timeline_for(tenant=in_tenant, membership=admin_member, account=account)
    assert [i.kind for i in timeline] == ["activity", "history", "history"]


def test_duplicates(in_tenant, admin_member):
    AccountFactory(tenant=in_tenant, name="Acme Industrial GmbH", domain="acme.com")
    AccountFactory(tenant=in_tenant, name="北京华信科技有限公司", domain="")
    assert [
        a.name for a in duplicates_selectors.account_duplicates(tenant=in_tenant, name="ACME Industrial Inc.")
    ] == ["Acme Industrial GmbH"]
    assert [
        a.name
        for a in duplicates_selectors.account_duplicates(
            tenant=in_tenant, name="Other", domain="www.acme.com"
        )
    ] == ["Acme Industrial GmbH"]
    assert [
        a.name for a in duplicates_selectors.account_duplicates(tenant=in_tenant, name="北京华信科技")
    ] == ["北京华信科技有限公司"]
    c = contacts_services.contact_create(
        tenant=in_tenant, actor=admin_member.user, first_name="A", email="A@x.com", phone="+86 138-0013-8000"
    )
    assert duplicates_selectors.contact_duplicates(tenant=in_tenant, email="a@X.com") == [c]
    assert duplicates_selectors.contact_duplicates(tenant=in_tenant, phone="13800138000") == []
    assert duplicates_selectors.contact_duplicates(tenant=in_tenant, phone="+86 13800138000") == [c]


def _state(tenant, *accounts):
    """Everything a merge touches, to compare before and after an undo."""
    from accounts.models import Account, AccountMember, Activity, Contact, Opportunity

    with tenant_context(tenant):
        ids = [a.pk for a in accounts]
        return {
            "accounts": sorted(
                Account.objects.filter(pk__in=ids).values_list(
                    "pk",
                    "name",
                    "domain",
                    "industry",
                    "tier",
                    "owner_id",
                    "parent_id",
                    "deleted_at",
                    "merged_into_id",
                    "external_id",
                    "search_text",
                )
            ),
            "children": sorted(Account.objects.filter(parent_id__in=ids).values_list("pk", "parent_id")),
            "contacts": sorted(Contact.objects.filter(account_id__in=ids).values_list("pk", "account_id")),
            "deals": sorted(Opportunity.objects.filter(account_id__in=ids).values_list("pk", "account_id")),
            "activities": sorted(Activity.objects.filter(account_id__in=ids).values_list("pk", "account_id")),
            "members": sorted(
                AccountMember.objects.filter(account_id__in=ids).values_list(
                    "pk", "account_id", "user_id", "access"
                )
            ),
        }


def test_account_merge_keeps_everything_and_undo_restores_exactly(tenant, admin_member, member):
    from accounts.models import Account, AccountMember, Activity, Contact, MergeRecord, Opportunity
    from tests.factories import AccountMemberFactory, ActivityFactory, ContactFactory, LeadFactory
    from tests.factories_accounts import make_deal

    rep = member(role="sales_rep").user
    actor = admin_member.user
    survivor = AccountFactory(tenant=tenant, name="Acme GmbH", domain="", industry="", external_id="")
    merged = AccountFactory(
        tenant=tenant, name="ACME", domain="acme.de", industry="Software", external_id="EXT-9"
    )
    child = AccountFactory(tenant=tenant, name="Acme Nord", parent=merged)
    contact = ContactFactory(account=merged)
    deal = make_deal(account=merged, owner=rep)
    call = ActivityFactory(account=merged, owner=rep)
    AccountMemberFactory(account=survivor, user=rep, access="read")
    clash = AccountMemberFactory(
        account=merged, user=rep, access="edit"
    )  # same person on both: a duplicate row
    lead = LeadFactory(tenant=tenant, converted_account=merged)
    before = _state(tenant, survivor, merged)
    with tenant_context(tenant):
        record = merges_services.account_merge(
            tenant=tenant, actor=actor, survivor=survivor, merged=merged, choices={"name": "merged"}
        )
        survivor.refresh_from_db()
        merged.refresh_from_db()
        assert (survivor.name, survivor.domain, survivor.industry, survivor.external_id) == (
            "ACME",
            "acme.de",
            "Software",
            "EXT-9",
        )
        assert survivor.search_text == "acme acme.de"
        assert merged.deleted_at is not None and merged.merged_into_id == survivor.pk
        assert Contact.objects.get(pk=contact.pk).account_id == survivor.pk
        assert Opportunity.objects.get(pk=deal.pk).account_id == survivor.pk
        assert Activity.objects.get(pk=call.pk).account_id == survivor.pk
        assert Account.objects.get(pk=child.pk).parent_id == survivor.pk
        assert not AccountMember.objects.filter(pk=clash.pk).exists()
        assert lead.__class__.objects.get(pk=lead.pk).converted_account_id == survivor.pk
        assert {e.action for e in history_selectors.history_for(tenant=tenant, obj=survivor)} >= {
            "created",
            "updated",
            "deleted",
        }
        assert (
            visibility_selectors.account_queryset(tenant=tenant, membership=admin_member)
            .filter(pk=merged.pk)
            .count()
            == 0
        )

        merges_services.merge_undo(tenant=tenant, actor=actor, merge_record=record)
        assert MergeRecord.objects.get(pk=record.pk).undone_at is not None
        assert lead.__class__.objects.get(pk=lead.pk).converted_account_id == merged.pk
        with pytest.raises(AppError):
            merges_services.merge_undo(tenant=tenant, actor=actor, merge_record=record)
    after = _state(tenant, survivor, merged)
    assert after == before


def test_contact_merge_handles_deal_role_clash_and_undo(tenant, admin_member):
    from accounts.models import Activity, OpportunityContact
    from tests.factories import ActivityFactory, ContactFactory
    from tests.factories_accounts import make_deal

    account = AccountFactory(tenant=tenant)
    keep, dupe = ContactFactory(account=account, phone=""), ContactFactory(account=account, phone="+49 1")
    deal = make_deal(account=account)
    with tenant_context(tenant):
        OpportunityContact.objects.create(tenant=tenant, opportunity=deal, contact=keep, role="Buyer")
        dupe_role = OpportunityContact.objects.create(
            tenant=tenant, opportunity=deal, contact=dupe, role="Champion"
        )
    call = ActivityFactory(account=account, contact=dupe)
    with tenant_context(tenant):
        record = merges_services.contact_merge(
            tenant=tenant, actor=admin_member.user, survivor=keep, merged=dupe
        )
        keep.refresh_from_db()
        assert keep.phone == "+49 1"  # empty survivor field filled from the merged record
        assert Activity.objects.get(pk=call.pk).contact_id == keep.pk
        assert not OpportunityContact.objects.filter(pk=dupe_role.pk).exists()
        merges_services.merge_undo(tenant=tenant, actor=admin_member.user, merge_record=record)
        restored = OpportunityContact.objects.get(pk=dupe_role.pk)
        assert (restored.contact_id, restored.role) == (dupe.pk, "Champion")
        assert Activity.objects.get(pk=call.pk).contact_id == dupe.pk
        keep.refresh_from_db()
        assert keep.phone == ""


def test_merge_refuses_same_or_deleted_records(in_tenant, admin_member):
    a, b = AccountFactory(tenant=in_tenant), AccountFactory(tenant=in_tenant)
    with pytest.raises(ValidationError):
        merges_services.account_merge(tenant=in_tenant, actor=admin_member.user, survivor=a, merged=a)
    accounts_services.account_delete(tenant=in_tenant, actor=admin_member.user, account=b)
    with pytest.raises(AppError):
        merges_services.account_merge(tenant=in_tenant, actor=admin_member.user, survivor=a, merged=b)


def test_account_validation(in_tenant, admin_member, other_tenant):
    with pytest.raises(ValidationError) as exc:
        accounts_services.account_create(tenant=in_tenant, actor=admin_member.user, name="  ")
    assert "name" in exc.value.message_dict
    foreign = AccountFactory(tenant=other_tenant)
    with pytest.raises(ValidationError) as exc:
        accounts_services.account_create(tenant=in_tenant, actor=admin_member.user, name="X", parent=foreign)
    assert "parent" in exc.value.message_dict
    a = accounts_services.account_create(tenant=in_tenant, actor=admin_member.user, name="A")
    b = accounts_services.account_create(tenant=in_tenant, actor=admin_member.user, name="B", parent=a)
    with pytest.raises(ValidationError) as exc:
        accounts_services.account_update(
            tenant=in_tenant, actor=admin_member.user, account=a, version=a.version, parent=b
        )
    assert "parent" in exc.value.message_dict
    outsider = UserFactory()
    with pytest.raises(ValidationError) as exc:
        accounts_services.account_create(tenant=in_tenant, actor=admin_member.user, name="C", owner=outsider)
    assert "owner" in exc.value.message_dict


def test_delete_and_restore(in_tenant, admin_member):
    account = accounts_services.account_create(tenant=in_tenant, actor=admin_member.user, name="Gone")
    accounts_services.account_delete(tenant=in_tenant, actor=admin_member.user, account=account)
    assert (
        not visibility_selectors.account_queryset(tenant=in_tenant, membership=admin_member)
        .filter(pk=account.pk)
        .exists()
    )
    accounts_services.account_restore(tenant=in_tenant, actor=admin_member.user, account=account)
    assert (
        visibility_selectors.account_queryset(tenant=in_tenant, membership=admin_member)
        .filter(pk=account.pk)
        .exists()
    )
    assert [e.action for e in history_selectors.history_for(tenant=in_tenant, obj=account)] == [
        "created",
        "deleted",
        "restored",
    ]


def test_activity_log_tells_the_leads_app(in_tenant, admin_member):
    from tests.factories import LeadFactory

    lead = LeadFactory(tenant=in_tenant, status="new")
    at = timezone.now() - datetime.timedelta(hours=3)
    activity = activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="call", subject="Hello", lead=lead, occurred_at=at
    )
    lead.refresh_from_db()
    assert activity.lead_id == lead.pk
    assert lead.status == "working" and lead.last_activity_at == at


def test_activity_log_fills_account_from_deal_or_contact(in_tenant, admin_member):
    from tests.factories import ContactFactory
    from tests.factories_accounts import make_deal

    account = AccountFactory(tenant=in_tenant)
    deal = make_deal(account=account)
    contact = ContactFactory(account=account)
    on_deal = activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="email", subject="x", opportunity=deal
    )
    on_contact = activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="note", subject="y", contact=contact
    )
    assert on_deal.account_id == account.pk and on_contact.account_id == account.pk
    with pytest.raises(ValidationError):
        activities_services.activity_log(
            tenant=in_tenant, actor=admin_member.user, kind="fax", subject="z", account=account
        )


def test_task_complete_and_snooze(in_tenant, admin_member):
    account = AccountFactory(tenant=in_tenant)
    overdue = timezone.now() - datetime.timedelta(days=3)
    task = activities_services.activity_log(
        tenant=in_tenant,
        actor=admin_member.user,
        kind="task",
        subject="Chase",
        account=account,
        due_at=overdue,
    )
    before = timezone.now()
    task = activities_services.activity_snooze(
        tenant=in_tenant, actor=admin_member.user, activity=task, delta="1d"
    )
    assert task.due_at >= before + datetime.timedelta(days=1)  # counted from now when overdue
    later = task.due_at
    task = activities_services.activity_snooze(
        tenant=in_tenant, actor=admin_member.user, activity=task, delta="1w"
    )
    assert task.due_at == later + datetime.timedelta(days=7)
    task = activities_services.activity_complete(tenant=in_tenant, actor=admin_member.user, activity=task)
    assert task.done and task.occurred_at is not None
    with pytest.raises(AppError):
        activities_services.activity_snooze(
            tenant=in_tenant, actor=admin_member.user, activity=task, delta="1d"
        )


def test_task_buckets_use_the_tenant_day(in_tenant, admin_member):
    account = AccountFactory(tenant=in_tenant)
    now = timezone.now()
    for days in (-2, 0, 3, 40):
        activities_services.activity_log(
            tenant=in_tenant,
            actor=admin_member.user,
            kind="task",
            subject=f"d{days}",
            account=account,
            due_at=now + datetime.timedelta(days=days),
        )
    activities_services.activity_log(
        tenant=in_tenant, actor=admin_member.user, kind="task", subject="none", account=account
    )
    buckets = activities_selectors.task_buckets(tenant=in_tenant, membership=admin_member)
    assert [t.subject for t in buckets.overdue] == ["d-2"]
    assert [t.subject for t in buckets.today] == ["d0"]
    assert [t.subject for t in buckets.upcoming] == ["d3"]
    assert [t.subject for t in buckets.no_date] == ["none"]


def test_rates_change_reprices_through_the_deals_hook(
    in_tenant, admin_member, monkeypatch, django_capture_on_commit_callbacks
):
    from accounts.services import rates

    calls = []
    monkeypatch.setattr(
        rates, "opportunities_reprice", lambda *, tenant, currency: calls.append(currency), raising=False
    )
    with django_capture_on_commit_callbacks(execute=True):
        rate = rates_services.exchange_rate_create(
            tenant=in_tenant,
            actor=admin_member.user,
            currency="usd",
            valid_from=datetime.date(2026, 1, 1),
            rate=Decimal("7"),
        )
        rates_services.exchange_rate_update(
            tenant=in_tenant, actor=admin_member.user, exchange_rate=rate, currency="EUR"
        )
        rates_services.exchange_rate_delete(tenant=in_tenant, actor=admin_member.user, exchange_rate=rate)
    assert sorted(calls) == ["EUR", "EUR", "USD", "USD"]
    with pytest.raises(ValidationError):
        rates_services.exchange_rate_create(
            tenant=in_tenant,
            actor=admin_member.user,
            currency="CNY",
            valid_from=datetime.date(2026, 1, 1),
            rate=1,
        )
    with pytest.raises(ValidationError):
        rates_services.exchange_rate_create(
            tenant=in_tenant,
            actor=admin_member.user,
            currency="USD",
            valid_from=datetime.date(2026, 1, 1),
            rate=0,
        )


def test_reporting_converter_matches_to_reporting(in_tenant):
    ExchangeRateFactory(tenant=in_tenant, currency="USD", valid_from=datetime.date(2025, 1, 1), rate="7")
    ExchangeRateFactory(tenant=in_tenant, currency="USD", valid_from=datetime.date(2025, 6, 1), rate="7.5")
    convert = rates_services.reporting_converter(tenant=in_tenant)
    for day in (datetime.date(2024, 1, 1), datetime.date(2025, 3, 1), datetime.date(2025, 7, 1)):
        assert convert(100, "USD", day) == rates_services.to_reporting(
            tenant=in_tenant, amount=100, currency="USD", on_date=day
        )
    assert convert("12.345", "CNY") == Decimal("12.35")
    with pytest.raises(AppError):
        convert(1, "GBP", None)


def test_normalize_company_name():
    assert crm_normalize.normalize_company_name("Müller GmbH & Co. KG") == "Müller"
    assert crm_normalize.normalize_company_name("Becker Robotics B.V.") == "Becker Robotics"
    assert crm_normalize.normalize_company_name("Acme Co., Ltd.") == "Acme"
    assert crm_normalize.normalize_company_name("上海华信科技股份有限公司") == "上海华信科技"
    assert crm_normalize.normalize_domain("HTTPS://www.Example.com/about") == "example.com"
