"""Date inputs in the page's language (issue 12, "one product"), in a real browser.

Every <input type=date> and <input type=datetime-local> is a flatpickr calendar (static/js/datepicker.js) in the
page's language: English month names and "2 Dec 2026" on English pages, 中文 month names and "2026年12月2日" on
Chinese ones, the week starting on Monday in both. Picking a day sets the ISO value the form sends and the lead
list's filter bar applies it, and back in the browser's history the pickers still work; typing works (the shown format or ISO), clearing the text clears the filter; the
quick log's due date, swapped in again by htmx after a task is logged, is a picker too. No console error (the
strict CSP: no inline style).
"""

from __future__ import annotations

import datetime as dt
import re

import pytest
from playwright.sync_api import ConsoleMessage, Locator, Page, expect

from accounts.models import Activity
from crm import services as crm_services
from crm.models import Membership, Role, Tenant
from crm.tenancy import tenant_context
from leads.models import Lead
from tests.factories import PASSWORD, LeadFactory

SLUG = "calendra"
ADMIN_EMAIL = "admin@calendra.test"
# Noon in Berlin on each day: the lead list's "Created" filter reads days in the tenant's zone.
CREATED = {"Early": dt.date(2026, 12, 1), "Middle": dt.date(2026, 12, 10), "Late": dt.date(2026, 12, 20)}

pytestmark = pytest.mark.browser


def _tenant() -> tuple[Tenant, Lead]:
    tenant = crm_services.tenant_create(
        slug=SLUG,
        name="Calendra 日历",
        time_zone="Europe/Berlin",
        currency="EUR",
        admin_email=ADMIN_EMAIL,
        admin_password=PASSWORD,
        admin_name="Ada Admin",
    )
    with tenant_context(tenant):
        admin = Membership.objects.select_related("user").get(role=Role.ADMIN).user
        leads = {}
        for company, day in CREATED.items():
            lead = LeadFactory(
                tenant=tenant, owner=admin, first_name=company, last_name="Lead", company=company
            )
            Lead.all_tenants.filter(pk=lead.pk).update(
                created_at=dt.datetime.combine(day, dt.time(12, 0), tzinfo=tenant.tzinfo)
            )
            leads[company] = lead
    return tenant, leads["Middle"]


def _console_errors(page: Page) -> list[str]:
    errors: list[str] = []

    def on_console(message: ConsoleMessage) -> None:
        if message.type == "error":
            errors.append(f"{page.url}: {message.text}")

    page.on("console", on_console)
    page.on("pageerror", lambda error: errors.append(str(error)))
    return errors


def _log_in(page: Page) -> None:
    page.goto(f"/login/?next=/t/{SLUG}/")
    page.get_by_label("Email").fill(ADMIN_EMAIL)
    page.get_by_label("Password").fill(PASSWORD)
    page.get_by_role("button", name="Log in").click()
    expect(page.get_by_test_id("user-menu")).to_be_visible()


def _calendar(page: Page) -> Locator:
    return page.locator(".flatpickr-calendar.open")


def _day(calendar: Locator, day: int) -> Locator:
    """The day of the month the calendar shows (not the neighbouring months' days around it)."""
    return calendar.locator(".flatpickr-day:not(.prevMonthDay):not(.nextMonthDay)").filter(
        has_text=re.compile(rf"^{day}$")
    )


def _companies(page: Page) -> list[str]:
    return sorted(
        company for company in CREATED if page.get_by_test_id("lead-row").filter(has_text=company).count()
    )


def test_date_picker_in_english_fills_the_iso_value_and_filters(new_context, live_url, screenshot):
    _tenant()
    page = new_context().new_page()
    errors = _console_errors(page)
    _log_in(page)
    page.goto(f"/t/{SLUG}/leads/?created_from=2026-12-02")
    rows = page.get_by_test_id("lead-row")
    expect(rows).to_have_count(2)
    bar = page.get_by_test_id("lead-filters")
    created_from = bar.get_by_label("Created from")
    submitted = bar.locator("input[name=created_from]")
    # The person sees the date as the pages write it; the form holds the ISO date.
    expect(created_from).to_have_value("2 Dec 2026")
    expect(submitted).to_have_value("2026-12-02")
    expect(submitted).to_have_attribute("type", "hidden")
    calendars = page.locator(".flatpickr-calendar").count()  # one per date input on the page
    assert calendars == page.locator("[data-datepicker-shown]").count() >= 2

    created_from.click()
    calendar = _calendar(page)
    expect(calendar).to_be_visible()
    expect(calendar.locator(".flatpickr-weekday").first).to_have_text("Mon")
    expect(calendar.locator(".flatpickr-weekday").last).to_have_text("Sun")
    expect(calendar.locator(".flatpickr-monthDropdown-months option:checked")).to_have_text("December")
    expect(calendar.locator(".cur-year")).to_have_value("2026")
    expect(calendar.locator(".flatpickr-day.selected")).to_have_text("2")
    screenshot(page, "date picker open in English")

    # Picking a day: the ISO value, the bar applies it (the address bar too).
    _day(calendar, 15).click()
    expect(submitted).to_have_value("2026-12-15")
    expect(created_from).to_have_value("15 Dec 2026")
    expect(page).to_have_url(re.compile(r"[?&]created_from=2026-12-15(&|$)"))
    expect(rows).to_have_count(1)
    assert _companies(page) == ["Late"]

    # Back: htmx puts the page back from its snapshot of the HTML; the pickers work again, one text box each.
    page.go_back()
    expect(page).to_have_url(re.compile(r"[?&]created_from=2026-12-02(&|$)"))
    expect(rows).to_have_count(2)
    expect(bar.locator("[data-datepicker-shown]")).to_have_count(2)
    expect(page.locator(".flatpickr-calendar")).to_have_count(calendars)
    expect(created_from).to_have_value("2 Dec 2026")

    # Typing, in the shown format (Enter sets it) ...
    created_from.click()
    created_from.press("Control+a")
    created_from.press_sequentially("5 Dec 2026", delay=20)
    created_from.press("Enter")
    expect(submitted).to_have_value("2026-12-05")
    expect(created_from).to_have_value("5 Dec 2026")
    expect(page).to_have_url(re.compile(r"[?&]created_from=2026-12-05(&|$)"))
    expect(rows).to_have_count(2)
    # ... or as ISO (leaving the field sets it).
    created_to = bar.get_by_label("Created to")
    created_to.click()
    created_to.press_sequentially("2026-12-12", delay=20)
    created_to.press("Tab")
    expect(created_to).to_have_value("12 Dec 2026")
    expect(bar.locator("input[name=created_to]")).to_have_value("2026-12-12")
    expect(page).to_have_url(re.compile(r"[?&]created_to=2026-12-12(&|$)"))
    expect(rows).to_have_count(1)
    assert _companies(page) == ["Middle"]

    # Clearing the text clears the filter.
    created_from.click()
    created_from.press("Control+a")
    created_from.press("Backspace")
    created_from.press("Tab")
    expect(submitted).to_have_value("")
    expect(page).not_to_have_url(re.compile(r"created_from=2026"))
    expect(rows).to_have_count(2)
    assert _companies(page) == ["Early", "Middle"]
    page.wait_for_load_state("networkidle")
    assert errors == []


def test_date_picker_in_chinese(new_context, live_url, screenshot):
    _tenant()
    page = new_context().new_page()
    errors = _console_errors(page)
    _log_in(page)
    page.get_by_test_id("language-switcher").get_by_role("button", name="中文").click()
    expect(page.locator("html")).to_have_attribute("lang", "zh-hans")
    page.goto(f"/t/{SLUG}/leads/?created_from=2026-12-02")
    rows = page.get_by_test_id("lead-row")
    expect(rows).to_have_count(2)
    bar = page.get_by_test_id("lead-filters")
    created_from = bar.locator("[data-datepicker-shown]").first
    submitted = bar.locator("input[name=created_from]")
    expect(created_from).to_have_value("2026年12月2日")
    expect(submitted).to_have_value("2026-12-02")

    created_from.click()
    calendar = _calendar(page)
    expect(calendar).to_be_visible()
    expect(calendar.locator(".flatpickr-weekday").first).to_have_text("周一")
    expect(calendar.locator(".flatpickr-weekday").last).to_have_text("周日")
    expect(calendar.locator(".flatpickr-monthDropdown-months option:checked")).to_have_text("十二月")
    screenshot(page, "date picker open in Chinese")

    _day(calendar, 15).click()
    expect(submitted).to_have_value("2026-12-15")
    expect(created_from).to_have_value("2026年12月15日")
    expect(page).to_have_url(re.compile(r"[?&]created_from=2026-12-15(&|$)"))
    expect(rows).to_have_count(1)

    # A 中文 date is typed as ISO (no IME needed) and shown the Chinese way.
    created_from.click()
    created_from.press("Control+a")
    created_from.press_sequentially("2026-12-05", delay=20)
    created_from.press("Enter")
    expect(created_from).to_have_value("2026年12月5日")
    expect(submitted).to_have_value("2026-12-05")
    expect(rows).to_have_count(2)
    page.wait_for_load_state("networkidle")
    assert errors == []


def test_htmx_swapped_form_has_a_date_picker(new_context, live_url, screenshot):
    tenant, lead = _tenant()
    page = new_context().new_page()
    errors = _console_errors(page)
    _log_in(page)
    page.goto(f"/t/{SLUG}/leads/{lead.pk}/")
    form = page.get_by_test_id("quick-log")
    form.get_by_text("Notes and due date").click()
    due = form.get_by_label("Due (tasks)")
    expect(due).to_have_attribute("data-datepicker-shown", "")
    expect(form.locator("input[name=due_at]")).to_have_attribute("type", "hidden")

    form.get_by_text("Task", exact=True).click()
    form.get_by_test_id("quick-log-subject").fill("Send the quote")
    due.click()
    expect(_calendar(page)).to_be_visible()
    expect(_calendar(page).locator(".flatpickr-time")).to_be_visible()  # a date and a time
    due.press("Control+a")
    due.press_sequentially("2026-12-21 10:00", delay=20)
    due.press("Tab")
    expect(due).to_have_value("21 Dec 2026 10:00")
    expect(form.locator("input[name=due_at]")).to_have_value("2026-12-21T10:00")
    calendars = page.locator(".flatpickr-calendar").count()
    form.get_by_test_id("quick-log-submit").click()
    expect(page.get_by_test_id("quick-log-subject")).to_have_value("")  # a fresh form, swapped in by htmx

    with tenant_context(tenant):
        task = Activity.objects.get(lead=lead, subject="Send the quote")
    assert task.due_at == dt.datetime(2026, 12, 21, 10, 0, tzinfo=tenant.tzinfo)

    # The swapped-in form's due date is a picker again, in the page's language.
    form = page.get_by_test_id("quick-log")
    expect(form.locator("input[name=due_at]")).to_have_attribute("type", "hidden")
    form.get_by_text("Notes and due date").click()
    due = form.get_by_label("Due (tasks)")
    due.click()
    calendar = _calendar(page)
    expect(calendar).to_be_visible()
    expect(calendar.locator(".flatpickr-weekday").first).to_have_text("Mon")
    _day(calendar, 3).click()
    expect(form.locator("input[name=due_at]")).to_have_value(re.compile(r"^\d{4}-\d{2}-03T\d{2}:\d{2}$"))
    screenshot(page, "quick log due date after the swap")
    # The swapped-out form took its calendar with it.
    assert page.locator(".flatpickr-calendar").count() == calendars
    page.wait_for_load_state("networkidle")
    assert errors == []
