"""Pages of the records area: lists, the account 360, contacts, quick log, tasks, rates, merges."""

from __future__ import annotations

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.models import Account, Activity, Contact, ExchangeRate
from crm.models import Role
from crm.tenancy import tenant_context
from tests.factories import AccountFactory, ActivityFactory, ContactFactory, ExchangeRateFactory

pytestmark = pytest.mark.django_db


def url(name, tenant, **kwargs):
    return reverse(f"accounts:{name}", kwargs={"slug": tenant.slug, **kwargs})


def test_quick_log_returns_timeline_and_fresh_form(tenant, admin_member, client_for):
    account = AccountFactory(tenant=tenant, owner=admin_member.user)
    client = client_for(admin_member)
    response = client.post(
        url("activity-create", tenant),
        {"kind": "call", "subject": "Intro call", "account": account.pk},
        HTTP_HX_REQUEST="true",
    )
    assert response.status_code == 200
    body = response.content.decode()
    assert 'id="timeline"' in body and "Intro call" in body and 'hx-swap-oob="true"' in body
    with tenant_context(tenant):
        assert Activity.objects.get().account == account


def test_pages_render_for_admin(tenant, admin_member, client_for):
    parent = AccountFactory(tenant=tenant, name="Parent Co", owner=admin_member.user)
    account = AccountFactory(tenant=tenant, name="Child Co", parent=parent, owner=admin_member.user)
    contact = ContactFactory(account=account, owner=admin_member.user)
    ActivityFactory(account=account, owner=admin_member.user, subject="Kickoff")
    ActivityFactory(
        account=account,
        owner=admin_member.user,
        kind="task",
        done=False,
        occurred_at=None,
        due_at=timezone.now(),
        subject="Follow up",
    )
    rate = ExchangeRateFactory(tenant=tenant)
    client = client_for(admin_member)
    for name, kwargs in [
        ("account-list", {}),
        ("account-create", {}),
        ("account-detail", {"pk": account.pk}),
        ("account-edit", {"pk": account.pk}),
        ("account-merge", {"pk": account.pk}),
        ("contact-list", {}),
        ("contact-create", {}),
        ("contact-detail", {"pk": contact.pk}),
        ("contact-edit", {"pk": contact.pk}),
        ("contact-merge", {"pk": contact.pk}),
        ("task-list", {}),
        ("rate-list", {}),
        ("rate-edit", {"pk": rate.pk}),
    ]:
        response = client.get(url(name, tenant, **kwargs))
        assert response.status_code == 200, name
    body = client.get(url("account-detail", tenant, pk=account.pk)).content.decode()
    assert "Kickoff" in body and "Parent Co" in body and contact.email in body
    assert "Follow up" in client.get(url("task-list", tenant)).content.decode()
    body = client.get(url("account-merge", tenant, pk=account.pk) + f"?other={parent.pk}").content.decode()
    assert 'data-testid="merge-form"' in body


def test_create_with_duplicates_asks_before_saving(tenant, admin_member, client_for):
    AccountFactory(tenant=tenant, name="Acme Industrial GmbH", domain="acme.com")
    client = client_for(admin_member)
    data = {"name": "ACME Industrial", "tier": "standard", "owner": admin_member.user.pk}
    response = client.post(url("account-create", tenant), data)
    assert response.status_code == 200
    assert 'data-testid="confirm-duplicates"' in response.content.decode()
    assert "Acme Industrial GmbH" in response.content.decode()
    with tenant_context(tenant):
        assert Account.objects.count() == 1
    response = client.post(url("account-create", tenant), {**data, "confirm_duplicates": "1"})
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Account.objects.count() == 2
    live = client.get(url("account-duplicates", tenant) + "?name=acme+industrial&domain=")
    assert live.content.decode().count('data-testid="duplicate-row"') == 2


def test_contact_duplicates_live_and_on_save(tenant, admin_member, client_for):
    ContactFactory(tenant=tenant, account=None, email="wei@huaxin.cn", phone="+86 138 0013 8000")
    client = client_for(admin_member)
    live = client.get(url("contact-duplicates", tenant) + "?email=WEI@huaxin.cn")
    assert "same email" in live.content.decode()
    live = client.get(url("contact-duplicates", tenant) + "?phone=%2B8613800138000")
    assert "same phone" in live.content.decode()
    response = client.post(url("contact-create", tenant), {"last_name": "Wei", "email": "wei@huaxin.cn"})
    assert 'data-testid="confirm-duplicates"' in response.content.decode()


def test_edit_conflict_shows_both_values_and_keeps_input(tenant, admin_member, client_for):
    account = AccountFactory(tenant=tenant, name="Old", owner=admin_member.user)
    client = client_for(admin_member)
    with tenant_context(tenant):
        Account.objects.filter(pk=account.pk).update(name="Theirs", version=2)
    data = {"name": "Mine", "tier": "key", "owner": admin_member.user.pk, "version": 1}
    response = client.post(url("account-edit", tenant, pk=account.pk), data)
    body = response.content.decode()
    assert response.status_code == 200 and 'data-testid="conflict-panel"' in body
    assert "Theirs" in body and 'value="Mine"' in body
    assert response.context["form"]["version"].value() == 2
    response = client.post(url("account-edit", tenant, pk=account.pk), {**data, "version": 2})
    assert response.status_code == 302
    with tenant_context(tenant):
        assert Account.objects.get(pk=account.pk).name == "Mine"


def test_delete_shows_undo_and_restore(tenant, admin_member, client_for):
    account = AccountFactory(tenant=tenant, name="Temp", owner=admin_member.user)
    client = client_for(admin_member)
    response = client.post(url("account-delete", tenant, pk=account.pk), follow=True)
    assert 'data-testid="deleted-banner"' in response.content.decode()
    assert client.get(url("account-detail", tenant, pk=account.pk)).status_code == 404
    client.post(url("account-restore", tenant, pk=account.pk))
    assert client.get(url("account-detail", tenant, pk=account.pk)).status_code == 200


def test_merge_page_and_undo(tenant, admin_member, client_for):
    keep = AccountFactory(tenant=tenant, name="Acme", owner=admin_member.user)
    other = AccountFactory(tenant=tenant, name="Acme Inc", owner=admin_member.user)
    contact = ContactFactory(account=other)
    client = client_for(admin_member)
    candidates = client.get(url("account-merge", tenant, pk=keep.pk)).content.decode()
    assert "Acme Inc" in candidates
    response = client.post(
        url("account-merge", tenant, pk=keep.pk),
        {"other": other.pk, "survivor": keep.pk, "pick_name": "right"},
        follow=True,
    )
    assert 'data-testid="merged-banner"' in response.content.decode()
    with tenant_context(tenant):
        assert Account.objects.get(pk=keep.pk).name == "Acme Inc"
        assert Contact.objects.get(pk=contact.pk).account_id == keep.pk
    merge = response.context["merge"]
    client.post(url("merge-undo", tenant, pk=merge.pk))
    with tenant_context(tenant):
        assert Account.objects.get(pk=keep.pk).name == "Acme"
        assert Contact.objects.get(pk=contact.pk).account_id == other.pk


def test_reps_cannot_merge_and_ops_cannot_write(tenant, member, client_for):
    rep, ops = member(role=Role.SALES_REP), member(role=Role.OPS)
    account = AccountFactory(tenant=tenant, owner=rep.user)
    assert client_for(rep).get(url("account-merge", tenant, pk=account.pk)).status_code == 404
    assert client_for(ops).get(url("account-create", tenant)).status_code == 404
    assert client_for(ops).get(url("account-detail", tenant, pk=account.pk)).status_code == 200
    assert client_for(rep).get(url("rate-list", tenant)).status_code == 404


def test_quick_log_error_keeps_input(tenant, admin_member, client_for):
    account = AccountFactory(tenant=tenant, owner=admin_member.user)
    client = client_for(admin_member)
    response = client.post(
        url("activity-create", tenant),
        {"kind": "task", "subject": "", "body": "keep me", "account": account.pk, "timeline_id": "timeline"},
        HTTP_HX_REQUEST="true",
    )
    assert response["HX-Retarget"] == "#quick-log-timeline"
    assert "keep me" in response.content.decode()
    foreign = client.post(
        url("activity-create", tenant), {"kind": "call", "subject": "x", "account": 987654321}
    )
    assert foreign.status_code == 404


def test_tasks_complete_and_snooze_over_htmx(tenant, member, client_for):
    rep, other = member(role=Role.SALES_REP), member(role=Role.SALES_REP)
    account = AccountFactory(tenant=tenant, owner=rep.user)
    task = ActivityFactory(
        account=account, owner=rep.user, kind="task", done=False, occurred_at=None, due_at=timezone.now()
    )
    client = client_for(rep)
    assert "task-complete" in client.get(url("task-list", tenant)).content.decode()
    response = client.post(url("task-snooze", tenant, pk=task.pk), {"by": "1w"}, HTTP_HX_REQUEST="true")
    assert response.status_code == 200 and f'id="task-{task.pk}"' in response.content.decode()
    response = client.post(url("task-complete", tenant, pk=task.pk), HTTP_HX_REQUEST="true")
    assert "task-done" in response.content.decode()
    with tenant_context(tenant):
        assert Activity.objects.get(pk=task.pk).done
    other_task = ActivityFactory(account=account, owner=other.user, kind="task", done=False, occurred_at=None)
    assert client.post(url("task-complete", tenant, pk=other_task.pk)).status_code == 404


def test_rate_pages(tenant, admin_member, client_for):
    client = client_for(admin_member)
    response = client.post(
        url("rate-list", tenant), {"currency": "usd", "valid_from": "2026-01-01", "rate": "7.2"}
    )
    assert response.status_code == 302
    with tenant_context(tenant):
        rate = ExchangeRate.objects.get()
    assert rate.currency == "USD"
    bad = client.post(
        url("rate-list", tenant), {"currency": "USD", "valid_from": "2026-01-01", "rate": "7.3"}
    )
    assert "already a rate" in bad.content.decode()
    client.post(
        url("rate-edit", tenant, pk=rate.pk), {"currency": "USD", "valid_from": "2026-01-01", "rate": "7.4"}
    )
    with tenant_context(tenant):
        assert str(ExchangeRate.objects.get().rate).startswith("7.4")
    client.post(url("rate-delete", tenant, pk=rate.pk))
    with tenant_context(tenant):
        assert not ExchangeRate.objects.exists()


def test_account_team_and_contact_prefill(tenant, admin_member, member, client_for):
    rep = member(role=Role.SALES_REP)
    account = AccountFactory(tenant=tenant, owner=admin_member.user)
    client = client_for(admin_member)
    client.post(url("account-member-add", tenant, pk=account.pk), {"user": rep.user.pk, "access": "read"})
    with tenant_context(tenant):
        assert account.account_members.get().access == "read"
    assert client_for(rep).get(url("account-detail", tenant, pk=account.pk)).status_code == 200
    client.post(url("account-member-remove", tenant, pk=account.pk, user_id=rep.user.pk))
    assert client_for(rep).get(url("account-detail", tenant, pk=account.pk)).status_code == 404
    form = client.get(url("contact-create", tenant) + f"?account={account.pk}").content.decode()
    assert f'value="{account.pk}"' in form and account.name in form


def test_pages_in_chinese(tenant, admin_member, client_for):
    account = AccountFactory(tenant=tenant, owner=admin_member.user)
    client = client_for(admin_member)
    client.post(reverse("crm:set-language"), {"language": "zh-hans", "next": "/"})
    for name, kwargs in [("account-list", {}), ("account-detail", {"pk": account.pk}), ("task-list", {})]:
        response = client.get(url(name, tenant, **kwargs))
        assert response.status_code == 200 and response.wsgi_request.LANGUAGE_CODE == "zh-hans"
