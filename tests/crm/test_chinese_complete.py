"""中文 complete (issue 12): the Renewals pipeline and its stages, the zone name, import kinds, Django's stock
validation messages and empty choices read in Chinese; the acme demo's people and teams have Chinese names while
the published logins stay exactly as DESIGN.md gives them."""

from __future__ import annotations

import pytest
from django import forms
from django.utils import translation

from accounts.models import Pipeline, Stage
from crm.formstyle import StyledForm
from crm.management.commands.seed_demo import DEMO_USERS, demo_person_name, demo_team_name
from crm.models import zone_label
from imports.templatetags.imports_tags import kind_label


def test_renewals_pipeline_and_stages_in_chinese():
    with translation.override("zh-hans"):
        assert Pipeline(name="Renewals").label == "续约"
        assert Pipeline(name="Sales").label == "销售"
        assert [
            Stage(name=n).label
            for n in ("Renewal due", "Renewal quote", "Contract sent", "Renewed", "Churned")
        ] == [
            "待续约",
            "续约报价",
            "合同已发出",
            "已续约",
            "已流失",
        ]
        assert Pipeline(name="Key accounts").label == "Key accounts"  # a tenant's own name stays as typed
    with translation.override("en"):
        assert Pipeline(name="Renewals").label == "Renewals"


def test_zone_and_import_kind_names():
    with translation.override("zh-hans"):
        assert zone_label("Asia/Shanghai") == "北京时间 (Asia/Shanghai)"
        assert zone_label("Pacific/Fiji") == "Pacific/Fiji"
        assert str(kind_label("leads")) == "线索"
    with translation.override("en"):
        assert zone_label("Europe/Berlin") == "Central European time (Berlin) (Europe/Berlin)"
        assert str(kind_label("opportunities")) == "Deals"


class _Form(StyledForm):
    name = forms.CharField()
    kind = forms.ChoiceField(choices=[("", "---------"), ("a", "A")])
    day = forms.DateField(widget=forms.DateInput(attrs={"type": "date"}))


def test_stock_messages_empty_choices_and_date_pickers_in_chinese():
    with translation.override("zh-hans"):
        form = _Form(data={"name": "", "kind": "x", "day": "not a day"})
        assert not form.is_valid()
        assert form.errors["name"] == ["此项必填。"]
        assert form.errors["kind"] == ["请选择有效的选项：x 不在可选范围内。"]
        assert form.errors["day"] == ["请输入有效的日期。"]
        assert str(form.fields["kind"].choices[0][1]) == "请选择…"
        assert 'lang="zh-hans"' in str(form["day"])


@pytest.mark.parametrize(("login", "role", "team", "english"), DEMO_USERS)
def test_acme_people_and_teams_have_chinese_names_and_logins_stay(login, role, team, english):
    name = demo_person_name("acme", login, english)
    assert name != english and all("\u4e00" <= char <= "\u9fff" for char in name)
    assert demo_person_name("globex", login, english) == english
    if team:
        assert all("\u4e00" <= char <= "\u9fff" for char in demo_team_name("acme", team))
        assert demo_team_name("globex", team) == team
    assert login in {
        "admin",
        "manager",
        "rep",
        "rep2",
        "ops",
        "cs",
    }  # emails are <login>@<slug>.test (DESIGN.md)
