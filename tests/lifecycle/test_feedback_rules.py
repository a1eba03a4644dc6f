"""Feedback validation, health trigger on commit, API CRUD and filters, the import kind, role visibility and the
query counts of the at-risk and feedback pages."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from crm.models import Role
from crm.tenancy import tenant_context
from lifecycle import tasks
from lifecycle.models import Feedback
from lifecycle.services.feedback import feedback_create
from lifecycle.services.health import health_recompute, health_settings_update
from tests.factories_accounts import ContactFactory
from tests.factories_cs import FeedbackFactory
from tests.lifecycle.cs_helpers import NOW, customer, overdue_task

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("kind", "score", "ok"),
    [
        ("nps", 0, True),
        ("nps", 10, True),
        ("nps", 11, False),
        ("nps", -1, False),
        ("csat", 1, True),
        ("csat", 5, True),
        ("csat", 0, False),
        ("csat", 6, False),
        ("nps", "x", False),
        ("nps", 7.5, False),
    ],
)
def test_score_ranges(in_tenant, kind, score, ok):
    account = customer(in_tenant)
    if ok:
        assert (
            feedback_create(tenant=in_tenant, actor=None, account=account, kind=kind, score=score).score
            == score
        )
    else:
        with pytest.raises(ValidationError) as caught:
            feedback_create(tenant=in_tenant, actor=None, account=account, kind=kind, score=score)
        assert "score" in caught.value.message_dict


def test_contact_of_another_account_is_refused(in_tenant):
    account, other = customer(in_tenant), customer(in_tenant)
    contact = ContactFactory(account=other)
    with pytest.raises(ValidationError) as caught:
        feedback_create(tenant=in_tenant, actor=None, account=account, contact=contact, kind="nps", score=5)
    assert "contact" in caught.value.message_dict


def test_feedback_schedules_one_health_recompute_on_commit(
    tenant, monkeypatch, django_capture_on_commit_callbacks
):
    calls = []
    monkeypatch.setattr(tasks.recompute_health, "delay", lambda tid, ids=None: calls.append((tid, ids)))
    with tenant_context(tenant):
        account = customer(tenant)
    with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
        feedback_create(tenant=tenant, actor=None, account=account, kind="nps", score=3)
        feedback_create(tenant=tenant, actor=None, account=account, kind="csat", score=2)
    assert calls == [(tenant.pk, [account.pk])]


def test_feedback_api_crud_filters_and_visibility(tenant, member, api_client_for):
    cs = member(role=Role.CS)
    rep = member(role=Role.SALES_REP)
    with tenant_context(tenant):
        mine = customer(tenant, owner=rep.user)
        other = customer(tenant)
        FeedbackFactory(account=other, kind="csat", score=2, received_at=NOW - dt.timedelta(days=40))
    api = api_client_for(cs)
    base = f"/api/v1/t/{tenant.slug}/feedback/"
    created = api.post(
        base, {"account": mine.pk, "kind": "nps", "score": 9, "comment": "Great"}, format="json"
    )
    assert created.status_code == 201, created.content
    assert created.json()["channel"] == "api"
    bad = api.post(base, {"account": mine.pk, "kind": "nps", "score": 11}, format="json")
    assert bad.status_code == 400 and "score" in bad.json()
    pk = created.json()["id"]
    assert api.patch(f"{base}{pk}/", {"score": 8}, format="json").json()["score"] == 8
    assert [r["kind"] for r in api.get(base, {"kind": "csat"}).json()["results"]] == ["csat"]
    recent = api.get(base, {"received_after": (NOW - dt.timedelta(days=7)).date().isoformat()}).json()[
        "results"
    ]
    assert [r["id"] for r in recent] == [pk]
    assert [r["id"] for r in api.get(base, {"account": mine.pk}).json()["results"]] == [pk]
    # the rep sees the feedback of their own account, read-only, and not the other account's
    rep_api = api_client_for(rep)
    assert [r["id"] for r in rep_api.get(base).json()["results"]] == [pk]
    with tenant_context(tenant):
        hidden = Feedback.objects.get(account=other).pk
    assert rep_api.get(f"{base}{hidden}/").status_code == 404
    assert rep_api.patch(f"{base}{pk}/", {"score": 1}, format="json").status_code == 403
    assert (
        rep_api.post(base, {"account": other.pk, "kind": "nps", "score": 1}, format="json").status_code == 403
    )
    assert api.delete(f"{base}{pk}/").status_code == 204


def test_health_api_and_settings(tenant, member, api_client_for):
    cs, rep = member(role=Role.CS), member(role=Role.SALES_REP)
    with tenant_context(tenant):
        mine = customer(tenant, owner=rep.user)
        other = customer(tenant)
        health_recompute(tenant=tenant, playbooks=False)
    api = api_client_for(cs)
    rows = api.get(f"/api/v1/t/{tenant.slug}/health/").json()["results"]
    assert {r["account"] for r in rows} == {mine.pk, other.pk}
    assert rows[0]["components"]["recency"]["reason"] == "no_touch"
    settings_url = f"/api/v1/t/{tenant.slug}/health/settings/"
    assert api.get(settings_url).json()["at_risk_threshold"] == 40
    assert api.put(settings_url, {"at_risk_threshold": 41}, format="json").status_code == 200
    assert api.put(settings_url, {"weight_recency": 99}, format="json").status_code == 400
    with tenant_context(tenant):
        health_recompute(tenant=tenant, playbooks=False)
    at_risk = api.get(f"/api/v1/t/{tenant.slug}/health/", {"at_risk": "true"}).json()["results"]
    assert len(at_risk) == 2 and all(r["at_risk"] for r in at_risk)
    rep_api = api_client_for(rep)
    assert [r["account"] for r in rep_api.get(f"/api/v1/t/{tenant.slug}/health/").json()["results"]] == [
        mine.pk
    ]
    assert rep_api.get(f"/api/v1/t/{tenant.slug}/health/{other.pk}/").status_code == 404
    assert rep_api.put(settings_url, {"at_risk_threshold": 10}, format="json").status_code == 403
    # the account filter: one's own account filters; another's, or an unknown id, is a 400 like every other list
    by_account = rep_api.get(f"/api/v1/t/{tenant.slug}/health/", {"account": mine.pk}).json()["results"]
    assert [r["account"] for r in by_account] == [mine.pk]
    hidden = rep_api.get(f"/api/v1/t/{tenant.slug}/health/", {"account": other.pk})
    unknown = rep_api.get(f"/api/v1/t/{tenant.slug}/health/", {"account": 987654321})
    assert hidden.status_code == unknown.status_code == 400
    assert hidden.json() == unknown.json() and "account" in hidden.json()
    assert rep_api.get(f"/api/v1/t/{tenant.slug}/health/", {"account": "x"}).status_code == 400


def test_at_risk_page_reasons_order_and_query_count(tenant, member, client_for, django_assert_num_queries):
    from tests.factories_lifecycle import SubscriptionFactory

    cs = member(role=Role.CS)
    with tenant_context(tenant):
        accounts = [customer(tenant, tier="key") for _ in range(4)]
        for n, account in enumerate(accounts):
            SubscriptionFactory(account=account, mrr=1000 * (n + 1), start_date=dt.date(2024, 1, 1))
        health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
        health_recompute(tenant=tenant, playbooks=False)
    client = client_for(cs)
    url = f"/t/{tenant.slug}/at-risk/"
    client.get(url)
    # session, user, tenant, savepoint, SET LOCAL, membership, lifecycle settings, count, rows (MRR and
    # owner in the row query), the lifecycle settings read a second time, the tenant switcher, reset,
    # release: the same with 2 or 6 rows (test_page_queries_do_not_grow_with_rows)
    with django_assert_num_queries(13):
        response = client.get(url)
    assert response.status_code == 200
    names = [a.name for a in reversed(accounts)]
    body = response.content.decode()
    positions = [body.index(name) for name in names]
    assert positions == sorted(positions)  # most MRR at stake first
    assert "No touch yet" in body


def test_feedback_page_query_count_and_rep_visibility(tenant, member, client_for, django_assert_num_queries):
    cs, rep = member(role=Role.CS), member(role=Role.SALES_REP)
    with tenant_context(tenant):
        mine = customer(tenant, owner=rep.user)
        other = customer(tenant, name="Hidden Customer Ltd")
        for _ in range(3):
            FeedbackFactory(account=mine, contact=ContactFactory(account=mine))
            FeedbackFactory(account=other)
    client = client_for(cs)
    url = f"/t/{tenant.slug}/feedback/"
    client.get(url)
    # the request's own queries, the count, the rows (account and contact joined) and the tenant switcher: the
    # same with 2 or 6 rows (test_page_queries_do_not_grow_with_rows); the filter's account select lists only a
    # chosen account and the log form picks its account by a search and lists the contacts of the chosen one
    # (none here: no query for either), never the whole tables
    with django_assert_num_queries(11):
        response = client.get(url)
    assert response.content.decode().count('data-testid="feedback-row"') == 6
    rep_page = client_for(rep).get(url).content.decode()
    assert rep_page.count('data-testid="feedback-row"') == 3 and "Hidden Customer Ltd" not in rep_page
    assert client_for(rep).get(f"/t/{tenant.slug}/feedback/account/{other.pk}/").status_code == 404
    assert client_for(rep).get(f"/t/{tenant.slug}/health/settings/").status_code == 404


def test_feedback_import_exact_columns_update_and_bad_rows(
    tenant, admin_member, django_capture_on_commit_callbacks
):
    from imports.models import ImportJob
    from imports.registry import get_kind
    from imports.services import import_job_create

    kind = get_kind("feedback")
    assert kind is not None
    assert kind.columns == ("external_id", "account_external_id", "kind", "score", "comment", "received_at")
    with tenant_context(tenant):
        account = customer(tenant, external_id="ACC-1")

    def run(text: str) -> ImportJob:
        with django_capture_on_commit_callbacks(execute=True), tenant_context(tenant):
            job = import_job_create(
                tenant=tenant,
                actor=admin_member.user,
                membership=admin_member,
                kind="feedback",
                file_name="feedback.csv",
                content=text.encode(),
            )
        with tenant_context(tenant):
            return ImportJob.objects.get(pk=job.pk)

    header = "external_id,account_external_id,kind,score,comment,received_at\n"
    job = run(
        header
        + "FB-1,ACC-1,nps,9,Great,2025-03-01T10:00:00+08:00\n"
        + "FB-2,ACC-1,csat,6,Too high,2025-03-02\n"
        + "FB-3,NOPE,nps,5,,\n"
        + "FB-4,ACC-1,csat,4,,2025-03-04T09:00:00\n"
    )
    assert (job.created, job.failed) == (2, 2), job.row_errors
    columns = {(e["row"], e["column"]) for e in job.row_errors}
    assert (3, "score") in columns and (4, "account_external_id") in columns
    with tenant_context(tenant):
        first = Feedback.objects.get(external_id="FB-1")
        assert (first.score, first.channel, first.account_id) == (9, "import", account.pk)
        assert first.received_at == dt.datetime(2025, 3, 1, 2, 0, tzinfo=dt.UTC)
    job = run(header + "FB-1,ACC-1,nps,3,Changed mind,2025-03-01T10:00:00+08:00\n")
    assert (job.created, job.updated) == (0, 1)
    with tenant_context(tenant):
        assert Feedback.objects.filter(external_id="FB-1").get().score == 3
        assert Feedback.objects.count() == 2


def _at_risk_page_queries(tenant, client, n: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from tests.factories_lifecycle import SubscriptionFactory

    with tenant_context(tenant):
        for i in range(n):
            account = customer(tenant, tier="key", name=f"Risky {n}-{i}")
            SubscriptionFactory(account=account, mrr=1000 + i, start_date=dt.date(2024, 1, 1))
            overdue_task(account)
            FeedbackFactory(account=account, kind="nps", score=3)
        health_settings_update(tenant=tenant, actor=None, at_risk_threshold=50)
        health_recompute(tenant=tenant, playbooks=False)
    url = f"/t/{tenant.slug}/at-risk/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    assert response.content.decode().count(f"Risky {n}-") == n
    return len(queries)


def _feedback_page_queries(tenant, client, n: int) -> int:
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    with tenant_context(tenant):
        for _ in range(n):
            account = customer(tenant)
            FeedbackFactory(account=account, contact=ContactFactory(account=account))
    url = f"/t/{tenant.slug}/feedback/"
    client.get(url)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.content.decode().count('data-testid="feedback-row"') == n
    return len(queries)


@pytest.mark.parametrize("page", [_at_risk_page_queries, _feedback_page_queries])
def test_page_queries_do_not_grow_with_rows(page, member, client_for):
    """The same number of queries for 2 and for 6 rows (no query per row), on two tenants of equal shape."""
    from tests.conftest import make_tenant

    counts = []
    for slug, n in (("rows-two", 2), ("rows-six", 6)):
        tenant = make_tenant(slug)
        cs = member(role=Role.CS, tenant=tenant)
        counts.append(page(tenant, client_for(cs), n))
    assert counts[0] == counts[1], counts


def test_every_change_to_an_answer_is_in_its_history_with_who_made_it(in_tenant, member):
    """Feedback is tracked like the other records: created, each change of score or comment, and a deleted
    answer's last values, each booked to the member who made it (a survey link's token stays out)."""
    from lifecycle.services.feedback import feedback_delete, feedback_update

    cs = member(role=Role.CS)
    account = customer(in_tenant)
    answer = feedback_create(
        tenant=in_tenant, actor=cs.user, account=account, kind="nps", score=6, comment="ok"
    )
    feedback_update(tenant=in_tenant, actor=cs.user, feedback=answer, score=9, comment="better")
    feedback_delete(tenant=in_tenant, actor=cs.user, feedback=answer)
    event_model = Feedback.pgh_event_models["delete"]  # type: ignore[attr-defined]
    events = list(
        event_model.objects.filter(pgh_obj_id=answer.pk)
        .order_by("pgh_id")
        .values_list("pgh_label", "score", "comment", "pgh_context__metadata__user")
    )
    assert events == [
        ("insert", 6, "ok", cs.user.pk),
        ("update", 9, "better", cs.user.pk),
        ("delete", 9, "better", cs.user.pk),
    ]
    assert "survey_nonce" not in {field.name for field in event_model._meta.fields}
