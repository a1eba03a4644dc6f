"""Issue 11 item 10: control characters (other than tabs and line breaks) are refused in text, with a clear error
naming the character: the API's JSON bodies (400 on the field), every form of crm.formstyle, and imports
(tests/imports/test_hardening.py). One pattern, crm.validators.CONTROL_CHARACTERS."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from accounts.models import Activity
from crm.models import Role
from crm.tenancy import tenant_context
from crm.validators import validate_no_control_characters
from leads.models import Lead
from tests.factories_accounts import AccountFactory

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize("value", ["\x00", "a\x07b", "\x1b[31m", "x\x7f", "\x0b", "\x0c"])
def test_the_validator_refuses_control_characters(value):
    with pytest.raises(ValidationError) as caught:
        validate_no_control_characters(value)
    assert f"U+{ord(next(c for c in value if ord(c) < 32 or ord(c) == 127)):04X}" in caught.value.messages[0]


@pytest.mark.parametrize("value", ["plain", "tab\there", "two\nlines", "crlf\r\n", "中文", "emoji 🙂", ""])
def test_the_validator_keeps_tabs_line_breaks_and_unicode(value):
    validate_no_control_characters(value)


def test_the_api_refuses_a_control_character_on_its_field(tenant, member, api_client_for):
    client = api_client_for(member(role=Role.SALES_REP))
    response = client.post(
        f"/api/v1/t/{tenant.slug}/leads/", {"last_name": "Li\x07", "company": "Acme"}, format="json"
    )
    assert response.status_code == 400
    assert list(response.json()) == ["last_name"]
    assert "U+0007" in response.json()["last_name"][0]
    nested = client.post(
        f"/api/v1/t/{tenant.slug}/leads/", {"last_name": "Li", "tags": [{"x": "\x1b"}]}, format="json"
    )
    assert nested.status_code == 400 and "U+001B" in nested.json()["tags"][0]
    with tenant_context(tenant):
        assert not Lead.objects.exists()


def test_the_api_keeps_tabs_and_line_breaks(tenant, member, api_client_for):
    rep = member(role=Role.SALES_REP)
    client = api_client_for(rep)
    lead = client.post(
        f"/api/v1/t/{tenant.slug}/leads/", {"last_name": "Li", "title": "Head\tof sales"}, format="json"
    )
    assert lead.status_code == 201, lead.content
    account = AccountFactory(tenant=tenant, owner=rep.user)
    note = client.post(
        f"/api/v1/t/{tenant.slug}/activities/",
        {"kind": "note", "subject": "Call notes", "body": "First line\nSecond line", "account": account.pk},
        format="json",
    )
    assert note.status_code == 201, note.content
    with tenant_context(tenant):
        assert Activity.objects.get(pk=note.json()["id"]).body == "First line\nSecond line"


def test_a_form_refuses_a_control_character_and_keeps_what_was_typed(tenant, member, client_for):
    client = client_for(member(role=Role.SALES_REP))
    response = client.post(
        f"/t/{tenant.slug}/leads/new/",
        {"last_name": "Wang", "company": "Ac\x1bme", "confirm_duplicates": "1"},
    )
    assert response.status_code == 200
    page = response.content.decode()
    assert "U+001B" in page
    assert 'value="Wang"' in page
    with tenant_context(tenant):
        assert not Lead.objects.exists()
