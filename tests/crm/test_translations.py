"""English and Simplified Chinese ship: the zh_Hans catalog is complete, well-formed, and the main pages read in
Chinese for a zh-hans user.

To refresh the catalog after adding strings: `make messages` (or the translator's script), then translate every
new msgid in locale/zh_Hans/LC_MESSAGES/django.po.
"""

from __future__ import annotations

import re
from decimal import Decimal
from html.parser import HTMLParser
from pathlib import Path

import polib
import pytest
from django.conf import settings as django_settings
from django.core.management import call_command
from django.urls import reverse

from accounts.services import accounts as accounts_services
from accounts.services import activities as activities_services
from accounts.services import opportunities as opportunities_services
from crm.models import Role, User
from crm.tenancy import tenant_context
from leads.services import leads as lead_services

LOCALE_DIR = Path(django_settings.BASE_DIR) / "locale"
CATALOGS = sorted(LOCALE_DIR.glob("zh_Hans/LC_MESSAGES/*.po"))
# The same directories the Makefile's `messages` target leaves out.
IGNORED = [".venv", "node_modules", "static/vendor", "test-artifacts"]
PLACEHOLDER = re.compile(r"%\([^)]+\)[sdifr]|%[sdifr]|\{[0-9a-zA-Z_]*\}")


def _key(entry: polib.POEntry) -> tuple[str | None, str]:
    return entry.msgctxt, entry.msgid


def _live(path: Path) -> list[polib.POEntry]:
    return [entry for entry in polib.pofile(str(path)) if not entry.obsolete]


def test_a_zh_hans_catalog_exists():
    assert [path.name for path in CATALOGS] == ["django.po"]


@pytest.mark.parametrize("path", CATALOGS, ids=lambda p: p.name)
def test_every_entry_is_translated_not_fuzzy_and_keeps_its_placeholders(path):
    catalog = polib.pofile(str(path))
    assert not catalog.metadata_is_fuzzy
    problems = []
    for entry in _live(path):
        translations = list(entry.msgstr_plural.values()) if entry.msgid_plural else [entry.msgstr]
        if "fuzzy" in entry.flags:
            problems.append(f"fuzzy: {entry.msgid!r}")
        if not all(translations):
            problems.append(f"untranslated: {entry.msgid!r}")
            continue
        # Chinese has one plural form: it carries the plural msgid's placeholders.
        expected = sorted(PLACEHOLDER.findall(entry.msgid_plural or entry.msgid))
        for text in translations:
            if sorted(PLACEHOLDER.findall(text)) != expected:
                problems.append(f"placeholders differ: {entry.msgid!r} -> {text!r}")
    assert problems == []


def test_the_committed_catalog_has_every_marked_string(tmp_path, settings, monkeypatch):
    """makemessages over the source tree (linked into a scratch directory, so the committed files stay as they
    are) finds no msgid that the committed .po lacks, and no entry whose msgid_plural changed (fuzzy)."""
    root = Path(django_settings.BASE_DIR)
    for item in root.iterdir():
        if item.name.startswith(".") or item.name in {"locale", "var", *IGNORED}:
            continue
        (tmp_path / item.name).symlink_to(item)
    committed = LOCALE_DIR / "zh_Hans/LC_MESSAGES/django.po"
    scratch = tmp_path / "locale/zh_Hans/LC_MESSAGES/django.po"
    scratch.parent.mkdir(parents=True)
    scratch.write_bytes(committed.read_bytes())
    settings.LOCALE_PATHS = [str(tmp_path / "locale")]
    monkeypatch.chdir(tmp_path)

    call_command("makemessages", locale=["zh_Hans"], ignore_patterns=IGNORED, symlinks=True, verbosity=0)

    known = {_key(entry) for entry in _live(committed)}
    regenerated = _live(scratch)
    assert ("navigation section", "Admin") in {_key(entry) for entry in regenerated}  # the extraction ran
    missing = sorted(f"{ctx or ''}|{msgid}" for ctx, msgid in {_key(e) for e in regenerated} - known)
    assert missing == [], "run makemessages and translate these msgids"
    changed = sorted(e.msgid for e in regenerated if "fuzzy" in e.flags)
    assert changed == [], "these entries changed in the source (e.g. their plural); translate them again"


# --- rendered pages -------------------------------------------------------------------------------------------

# Common UI labels: none of them may show up as a word in the visible text of a page rendered in Chinese.
ENGLISH_LABELS = [
    "Owner",
    "Status",
    "Save",
    "Cancel",
    "Edit",
    "Delete",
    "Search",
    "Filter",
    "Reset",
    "Apply",
    "Sort",
    "Leads",
    "Lead",
    "Accounts",
    "Account",
    "Contacts",
    "Contact",
    "Deals",
    "Deal",
    "Pipeline",
    "Stage",
    "Amount",
    "Probability",
    "Weighted",
    "Name",
    "Email",
    "Phone",
    "Company",
    "Title",
    "Source",
    "Campaign",
    "Territory",
    "Score",
    "Region",
    "Industry",
    "Tier",
    "Created",
    "Home",
    "Settings",
    "Members",
    "Log out",
    "Previous",
    "Next",
    "Won",
    "Lost",
    "New",
    "Convert",
    "Assign",
    "Claim",
    "Pool",
    "Timeline",
    "Activity",
    "Call",
    "Meeting",
    "Note",
    "Task",
    "Subject",
    "Due",
    "Any",
    "All",
    "Select",
    "Board",
    "List",
    "Profile",
    "Details",
    "Merge",
    "Restore",
    "Undo",
    "Forecast",
    "Expected",
    "Close",
    "Today",
    "Overdue",
    "Welcome",
    "deals",
    "weighted",
    "owner",
    "status",
    "created",
    "updated",
]
WORD = re.compile(r"\b(?:" + "|".join(re.escape(label) for label in ENGLISH_LABELS) + r")\b")


class _VisibleText(HTMLParser):
    """Text nodes only: tags (and so attribute values), <script>, <style> and comments are left out."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.hidden = 0
        self.chunks: list[str] = []

    def handle_starttag(self, tag: str, attrs: list) -> None:
        if tag in {"script", "style", "template"}:
            self.hidden += 1

    def handle_endtag(self, tag: str) -> None:
        if tag in {"script", "style", "template"} and self.hidden:
            self.hidden -= 1

    def handle_data(self, data: str) -> None:
        if not self.hidden and data.strip():
            self.chunks.append(data.strip())


def visible_text(html: str) -> str:
    parser = _VisibleText()
    parser.feed(html)
    return "\n".join(parser.chunks)


@pytest.fixture
def zh_rep(tenant, member):
    rep = member(role=Role.SALES_REP, team="华东")
    User.objects.filter(pk=rep.user_id).update(language="zh-hans", full_name="王小明")
    rep.user.refresh_from_db()
    return rep


@pytest.fixture
def records(tenant, zh_rep):
    """A lead, an account and a deal with Chinese data, plus a logged call and a change, so that the pages show
    their tables, timelines and history."""
    user = zh_rep.user
    with tenant_context(tenant):
        lead = lead_services.lead_create(
            tenant=tenant,
            actor=user,
            owner=user,
            first_name="伟",
            last_name="张",
            company="华信科技",
            email="zhang.wei@huaxin.example",
            phone="13800000000",
            title="采购经理",
            region="华东",
            industry="制造业",
        )
        lead_services.lead_update(
            tenant=tenant, actor=user, lead=lead, version=None, company="华信科技有限公司"
        )
        account = accounts_services.account_create(
            tenant=tenant, actor=user, name="上海华信科技有限公司", industry="制造业", region="华东"
        )
        accounts_services.account_update(
            tenant=tenant, actor=user, account=account, version=None, region="华北"
        )
        deal = opportunities_services.opportunity_create(
            tenant=tenant, actor=user, account=account, name="MES 二期", amount=Decimal("120000")
        )
        activities_services.activity_log(
            tenant=tenant, actor=user, kind="call", subject="电话沟通需求", lead=lead
        )
        activities_services.activity_log(
            tenant=tenant, actor=user, kind="task", subject="发送报价", account=account
        )
    return {"lead": lead, "account": account, "deal": deal}


@pytest.mark.django_db
def test_main_pages_read_in_chinese(tenant, zh_rep, records, client_for):
    slug = tenant.slug
    pages = {
        "tenant home": reverse("crm:tenant-home", kwargs={"slug": slug}),
        "leads inbox": reverse("leads:lead-list", kwargs={"slug": slug}),
        "lead page": reverse("leads:lead-detail", kwargs={"slug": slug, "pk": records["lead"].pk}),
        "deal board": reverse("accounts:opportunity-board", kwargs={"slug": slug}),
        "deal list": reverse("accounts:opportunity-list", kwargs={"slug": slug}),
        "deal page": reverse("accounts:opportunity-detail", kwargs={"slug": slug, "pk": records["deal"].pk}),
        "account list": reverse("accounts:account-list", kwargs={"slug": slug}),
        "account page": reverse(
            "accounts:account-detail", kwargs={"slug": slug, "pk": records["account"].pk}
        ),
        "my tasks": reverse("accounts:task-list", kwargs={"slug": slug}),
    }
    client = client_for(zh_rep)
    english = {}
    for name, url in pages.items():
        response = client.get(url)
        assert response.status_code == 200, name
        html = response.content.decode()
        assert '<html lang="zh-hans">' in html, name
        text = visible_text(html)
        # Stage names ("Proposal", "Closed won"...) are tenant data, not UI labels; none is in the list above.
        found = sorted(set(WORD.findall(text)))
        if found:
            english[name] = found
    assert english == {}


def test_visible_text_leaves_out_scripts_styles_and_attributes():
    html = (
        '<p title="Owner">负责人</p><script>var Owner = 1;</script><style>.Status{}</style>'
        '<input placeholder="Search"><!-- Save -->'
    )
    assert visible_text(html) == "负责人"
    assert WORD.findall("Owner: 王 · Statuses") == ["Owner"]


def test_chinese_pages_group_amounts_by_thousands():
    from django.contrib.humanize.templatetags.humanize import intcomma
    from django.utils import translation

    with translation.override("zh-hans"):
        assert intcomma(48091566) == "48,091,566"
    with translation.override("en"):
        assert intcomma(48091566) == "48,091,566"
