"""One filter bar on every list page (issue 12, "one product"): each list renders the shared bar of
crm/templatetags/filterbar.py — a GET form that applies as it changes (htmx, debounced), keeps the query in the
address bar, ends with the same Reset link — and every select's empty choice says "Any …" in English and
"全部…" in 中文. A list page that builds its own filter form again fails here."""

from __future__ import annotations

from html.parser import HTMLParser

import pytest
from django.urls import reverse

from crm.models import Role

pytestmark = pytest.mark.django_db

LIST_PAGES = [
    "leads:lead-list",
    "leads:pool",
    "accounts:account-list",
    "accounts:contact-list",
    "accounts:opportunity-list",
    "accounts:opportunity-board",
    "accounts:rate-list",
    "leads:campaign-list",
    "leads:source-list",
    "lifecycle:subscription-list",
    "lifecycle:renewal-list",
    "lifecycle:feedback-list",
]

EMPTY_LABEL = {"en": "Any", "zh-hans": "全部"}


class _Forms(HTMLParser):
    """The GET forms of a page, each with its attributes, its selects' empty options and its links."""

    def __init__(self) -> None:
        super().__init__()
        self.forms: list[dict] = []
        self._form: dict | None = None
        self._option: dict | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = {key: value or "" for key, value in attrs}
        if tag == "form" and a.get("method", "").lower() == "get":
            self._form = {"attrs": a, "empty_options": [], "links": []}
            self.forms.append(self._form)
        elif self._form is not None and tag == "option" and a.get("value") == "":
            self._option = {"text": ""}
            self._form["empty_options"].append(self._option)
        elif self._form is not None and tag == "a":
            self._form["links"].append(a)

    def handle_data(self, data: str) -> None:
        if self._option is not None:
            self._option["text"] += data

    def handle_endtag(self, tag: str) -> None:
        if tag == "option":
            self._option = None
        elif tag == "form":
            self._form = None


def _get_forms(client, url: str) -> list[dict]:
    response = client.get(url)
    assert response.status_code == 200, url
    parser = _Forms()
    parser.feed(response.content.decode())
    return [form for form in parser.forms if "data-global-search" not in form["attrs"]]


@pytest.mark.parametrize("language", ["en", "zh-hans"])
@pytest.mark.parametrize("url_name", LIST_PAGES)
def test_every_list_page_has_the_shared_filter_bar(tenant, member, client_for, url_name, language):
    admin = member(role=Role.ADMIN)
    admin.user.language = language
    admin.user.save(update_fields=["language"])
    url = reverse(url_name, kwargs={"slug": tenant.slug})
    forms = _get_forms(client_for(admin), url)
    bars = [form for form in forms if "data-filter-bar" in form["attrs"]]
    assert len(bars) == 1, f"{url_name}: {len(bars)} filter bars"
    others = [form["attrs"] for form in forms if "data-filter-bar" not in form["attrs"]]
    assert not others, f"{url_name} has its own GET filter form besides the shared bar: {others}"
    bar = bars[0]
    attrs = bar["attrs"]
    assert attrs["action"] == url
    assert attrs["hx-get"] == url
    assert attrs["hx-trigger"] == "input delay:350ms, submit"
    assert attrs["hx-push-url"] == "true"
    assert "filter-bar" in attrs["class"].split()
    resets = [link for link in bar["links"] if "data-filter-reset" in link]
    assert len(resets) == 1
    assert resets[0]["href"].startswith(url)
    for option in bar["empty_options"]:
        assert option["text"].strip().startswith(EMPTY_LABEL[language]), (url_name, option["text"])
