"""Exports in the formats people use (issue 10 item 4): `Accept: text/csv` on the API, XLSX next to CSV in the
browser and the API, and the rule that defuses only the cells a spreadsheet would really run."""

from __future__ import annotations

import io

import pytest
from django.urls import reverse
from openpyxl import load_workbook

from crm.models import Role
from imports.registry import get_kind
from imports.rows import cell_for_export, cell_from_import, runs_as_formula
from tests.factories_leads import LeadFactory

pytestmark = pytest.mark.django_db

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


@pytest.mark.parametrize(
    "value",
    [
        "+86 138 0000 0000",
        "+1 (555) 123-4567",
        "+49 30/1234-56",
        "-1500.50",
        "-",
        "+",
        "12",
        "Acme",
        "a=b",
        "",
        " =1+1",
    ],
)
def test_cells_a_spreadsheet_cannot_run_are_exported_as_they_are(value):
    assert not runs_as_formula(value)
    assert cell_for_export(value) == value
    assert cell_from_import(value) == value


@pytest.mark.parametrize(
    "value",
    [
        '=HYPERLINK("http://evil.example","Click")',
        "=1+1",
        "@SUM(A1:A2)",
        "+cmd|' /C calc'!A0",
        "-2+3+cmd|' /C calc'!A0",
        "+SUM(1,2)",
        "-A1",
        "+86 138 0000 0000 ext. 12",
        "\t=1+1",
        "\r=1+1",
        "+1\n=2",
    ],
)
def test_cells_a_spreadsheet_would_run_are_defused_and_come_back(value):
    assert runs_as_formula(value)
    exported = cell_for_export(value)
    assert exported == "'" + value
    assert cell_from_import(exported) == value


def test_an_apostrophe_the_user_typed_is_kept():
    assert cell_from_import("'+86 138") == "'+86 138"
    assert cell_for_export("'=x") == "'=x"


def api_export(client, tenant, kind: str, **extra):
    return client.get(f"/api/v1/t/{tenant.slug}/exports/{kind}/", **extra)


def test_api_export_answers_accept_text_csv(tenant, admin_member, api_client_for):
    LeadFactory(tenant=tenant, external_id="L-1", last_name="Zhao", phone="+86 138 0000 0000")
    client = api_client_for(admin_member)
    for accept in ("text/csv", "text/csv; charset=utf-8", "*/*", "application/json"):
        response = api_export(client, tenant, "leads", HTTP_ACCEPT=accept)
        assert response.status_code == 200, (accept, response.content)
        assert response["Content-Type"] == "text/csv; charset=utf-8"
        text = b"".join(response.streaming_content).decode()
        assert ",+86 138 0000 0000," in text and text.startswith("\ufeffexternal_id,")
    csv_format = api_export(client, tenant, "leads", data={"format": "csv"})
    assert csv_format.status_code == 200 and csv_format["Content-Type"] == "text/csv; charset=utf-8"


def test_api_export_errors_are_json_whatever_was_accepted(tenant, member, api_client_for):
    client = api_client_for(member(role=Role.CS))
    response = api_export(client, tenant, "leads", HTTP_ACCEPT="text/csv")
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


def _sheet_rows(content: bytes) -> list[tuple]:
    workbook = load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    return [tuple(cell.value for cell in row) for row in sheet.iter_rows()]


@pytest.mark.parametrize("how", ["accept", "format"])
def test_api_export_as_xlsx(tenant, admin_member, api_client_for, how):
    LeadFactory(
        tenant=tenant,
        external_id="L-1",
        last_name="张",
        company='=HYPERLINK("http://evil.example","Click")',
        phone="+86 138 0000 0000",
    )
    LeadFactory(tenant=tenant, external_id="L-2", last_name="Li")
    client = api_client_for(admin_member)
    extra = {"HTTP_ACCEPT": XLSX} if how == "accept" else {"data": {"format": "xlsx"}}
    response = api_export(client, tenant, "leads", **extra)
    assert response.status_code == 200, response.content
    assert response["Content-Type"] == XLSX
    assert response["Content-Disposition"].startswith('attachment; filename="alpha-leads-')
    assert response["Content-Disposition"].endswith('.xlsx"')
    rows = _sheet_rows(b"".join(response.streaming_content))
    columns = get_kind("leads").columns
    assert rows[0] == columns
    first = dict(zip(columns, rows[1], strict=True))
    # text cells: never run as a formula, so the value is exactly the record's
    assert first["company"] == '=HYPERLINK("http://evil.example","Click")'
    assert (first["external_id"], first["last_name"], first["phone"]) == ("L-1", "张", "+86 138 0000 0000")
    assert [row[0] for row in rows[1:]] == ["L-1", "L-2"]


def test_browser_export_as_xlsx_with_the_list_filters(tenant, admin_member, client_for):
    LeadFactory(tenant=tenant, external_id="L-1", last_name="Zhao")
    LeadFactory(tenant=tenant, external_id="L-2", last_name="Qian")
    client = client_for(admin_member)
    url = reverse("imports:export-xlsx", kwargs={"slug": tenant.slug, "kind": "leads"})
    response = client.get(url, {"q": "Zhao"})
    assert response.status_code == 200 and response["Content-Type"] == XLSX
    rows = _sheet_rows(b"".join(response.streaming_content))
    assert [row[0] for row in rows[1:]] == ["L-1"]
    page = client.get(reverse("leads:lead-list", kwargs={"slug": tenant.slug})).content.decode()
    assert 'data-testid="export-xlsx"' in page and url in page


def test_browser_export_of_another_kind_is_404_in_xlsx_too(tenant, member, client_for):
    client = client_for(member(role=Role.CS))
    url = reverse("imports:export-xlsx", kwargs={"slug": tenant.slug, "kind": "leads"})
    assert client.get(url).status_code == 404
