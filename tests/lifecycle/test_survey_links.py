"""Survey links: signed, expiring, one answer each, rate-limited; a bad link writes nothing."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import signing
from django.core.cache import cache
from django.test import Client

from crm.tenancy import tenant_context
from lifecycle.models import Feedback
from lifecycle.services import survey
from lifecycle.services.survey import SURVEY_SALT, survey_link_make
from tests.factories_accounts import ContactFactory
from tests.lifecycle.cs_helpers import customer

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def fresh_rate_limit(settings):
    settings.SURVEY_RATE_LIMIT = 1000
    cache.delete("survey-rate:127.0.0.1")
    yield
    cache.delete("survey-rate:127.0.0.1")


def _link(tenant, kind="nps"):  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        contact = ContactFactory(account=customer(tenant))
        return contact, survey_link_make(tenant=tenant, contact=contact, kind=kind)


def _count(tenant) -> int:  # type: ignore[no-untyped-def]
    with tenant_context(tenant):
        return Feedback.objects.count()


def test_answer_once_in_the_tenants_language(tenant):
    tenant.default_locale = "zh-hans"
    tenant.save(update_fields=["default_locale"])
    contact, token = _link(tenant)
    client = Client()
    page = client.get(f"/survey/{token}/")
    assert page.status_code == 200
    body = page.content.decode()
    assert (
        tenant.name in body and contact.email not in body and tenant.slug not in body.replace(tenant.name, "")
    )
    assert 'lang="zh-hans"' in body
    assert client.post(f"/survey/{token}/", {"score": 9, "comment": "好"}).status_code == 200
    with tenant_context(tenant):
        answer = Feedback.objects.get()
    assert (answer.contact_id, answer.score, answer.channel, answer.kind) == (contact.pk, 9, "survey", "nps")
    again = client.post(f"/survey/{token}/", {"score": 1})
    assert again.status_code == 410 and _count(tenant) == 1
    assert client.get(f"/survey/{token}/").status_code == 410


def test_tampered_link_is_refused_and_writes_nothing(tenant):
    _contact, token = _link(tenant)
    tampered = token[:-2] + ("AA" if not token.endswith("AA") else "BB")
    response = Client().post(f"/survey/{tampered}/", {"score": 9})
    assert response.status_code == 400 and b"not valid" in response.content
    assert _count(tenant) == 0


def test_another_tenants_contact_cannot_be_forged(tenant, other_tenant):
    _contact, token = _link(tenant)
    with tenant_context(other_tenant):
        foreign = ContactFactory(account=customer(other_tenant))
    payload = signing.loads(token, salt=SURVEY_SALT)
    payload["c"] = foreign.pk
    forged = signing.dumps(payload, salt="some-other-salt", compress=True)
    assert Client().post(f"/survey/{forged}/", {"score": 9}).status_code == 400
    assert _count(tenant) == 0 and _count(other_tenant) == 0


def test_expired_link(tenant, monkeypatch):
    _contact, token = _link(tenant)
    monkeypatch.setattr(survey, "SURVEY_MAX_AGE", dt.timedelta(seconds=-1))
    response = Client().post(f"/survey/{token}/", {"score": 9})
    assert response.status_code == 410 and b"expired" in response.content
    assert _count(tenant) == 0


def test_score_out_of_range_writes_nothing(tenant):
    _contact, token = _link(tenant, kind="csat")
    assert Client().post(f"/survey/{token}/", {"score": 9}).status_code == 400
    assert _count(tenant) == 0


def test_rate_limit(tenant, settings):
    settings.SURVEY_RATE_LIMIT = 3
    _contact, token = _link(tenant)
    client = Client()
    assert [client.get(f"/survey/{token}/").status_code for _ in range(4)] == [200, 200, 200, 429]
    assert client.post(f"/survey/{token}/", {"score": 9}).status_code == 429
    assert _count(tenant) == 0


def test_cs_makes_a_link_from_the_contact_page(tenant, member, client_for):
    from crm.models import Role

    cs = member(role=Role.CS)
    with tenant_context(tenant):
        contact = ContactFactory(account=customer(tenant))
    response = client_for(cs).post(f"/t/{tenant.slug}/contacts/{contact.pk}/survey-link/", {"kind": "csat"})
    assert response.status_code == 200 and b"/survey/" in response.content
    rep = member(role=Role.SALES_REP)
    assert (
        client_for(rep)
        .post(f"/t/{tenant.slug}/contacts/{contact.pk}/survey-link/", {"kind": "csat"})
        .status_code
        == 404
    )
