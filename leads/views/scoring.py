"""Pages of scoring rules: list, edit, delete, and the preview of how many leads a draft would score above."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from crm.types import TenantHttpRequest
from crm.viewutils import apply_validation_error
from leads.forms.scoring import ScoringRuleForm
from leads.models import ScoringCategory, ScoringRule, SourceKind
from leads.selectors import scoring as scoring_selectors
from leads.selectors import setup_roles as setup_roles_selectors
from leads.services import scoring as scoring_services
from leads.views.setup_helpers import edit_only, get_or_404, read_config, setup_context

PREVIEW_ABOVE = 50


@read_config
def scoring_rules(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """The rules, and (for admin and ops) the form that adds one, with a live preview."""
    form = ScoringRuleForm(
        request.POST or None, tenant=request.tenant, initial={"is_active": True, "points": 10}
    )
    if request.method == "POST":
        if not setup_roles_selectors.can_edit(request.membership):
            raise Http404
        if form.is_valid():
            try:
                scoring_services.scoring_rule_create(
                    tenant=request.tenant,
                    actor=request.user,
                    field=form.cleaned_data["field"],
                    value=form.cleaned_data["value"],
                    points=form.cleaned_data["points"],
                    is_active=form.cleaned_data["is_active"],
                )
            except ValidationError as exc:
                apply_validation_error(form, exc)
            else:
                messages.success(request, _("Rule added; scores are being updated."))
                return redirect("leads:scoring-rules", slug=slug)
    rules = list(scoring_selectors.scoring_rule_list(tenant=request.tenant, membership=request.membership))
    groups = [(label, [r for r in rules if r.category == key]) for key, label in ScoringCategory.choices]
    context = setup_context(
        request,
        groups=groups,
        form=form,
        kinds=SourceKind,
        above=PREVIEW_ABOVE,
        scoring_above=scoring_selectors.leads_scoring_above(
            tenant=request.tenant, membership=request.membership, above=PREVIEW_ABOVE
        ),
    )
    return render(request, "leads/scoring_rules.html", context)


@edit_only
def scoring_rule_edit(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    rule = get_or_404(
        scoring_selectors.scoring_rule_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    form = ScoringRuleForm(
        request.POST or None, tenant=request.tenant, initial=ScoringRuleForm.initial_for(rule)
    )
    if request.method == "POST" and form.is_valid():
        try:
            scoring_services.scoring_rule_update(
                tenant=request.tenant,
                actor=request.user,
                rule=rule,
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                points=form.cleaned_data["points"],
                is_active=form.cleaned_data["is_active"],
            )
        except ValidationError as exc:
            apply_validation_error(form, exc)
        else:
            messages.success(request, _("Rule saved; scores are being updated."))
            return redirect("leads:scoring-rules", slug=slug)
    return render(
        request,
        "leads/scoring_rule_form.html",
        setup_context(request, form=form, rule=rule, above=PREVIEW_ABOVE),
    )


@edit_only
@require_POST
def scoring_rule_delete(request: TenantHttpRequest, slug: str, pk: int) -> HttpResponse:
    rule = get_or_404(
        scoring_selectors.scoring_rule_get, tenant=request.tenant, membership=request.membership, pk=pk
    )
    scoring_services.scoring_rule_delete(tenant=request.tenant, actor=request.user, rule=rule)
    messages.success(request, _("Rule deleted; scores are being updated."))
    return redirect("leads:scoring-rules", slug=slug)


@edit_only
@require_POST
def scoring_preview(request: TenantHttpRequest, slug: str) -> HttpResponse:
    """ "N open leads would score above 50" with the rules as they would be after saving the form: the current
    active rules, without the rule being edited (`rule` = its id), plus the draft when it is valid and active."""
    form = ScoringRuleForm(request.POST, tenant=request.tenant)
    rules = list(ScoringRule.objects.filter(tenant=request.tenant, is_active=True))
    editing = request.POST.get("rule", "")
    if editing.isdecimal():
        rules = [r for r in rules if r.pk != int(editing)]
    draft_ok = False
    if form.is_valid():
        try:
            category, value, points = scoring_services.scoring_rule_normalize(
                field=form.cleaned_data["field"],
                value=form.cleaned_data["value"],
                points=form.cleaned_data["points"],
                tenant=request.tenant,
            )
        except ValidationError:
            pass
        else:
            draft_ok = True
            if form.cleaned_data["is_active"]:
                rules.append(
                    ScoringRule(
                        tenant=request.tenant,
                        category=category,
                        field=form.cleaned_data["field"],
                        value=value,
                        points=points,
                    )
                )
    count = scoring_services.scoring_preview_count(
        tenant=request.tenant,
        rules=scoring_services.rule_specs(tenant=request.tenant, rules=rules),
        above=PREVIEW_ABOVE,
    )
    context = setup_context(
        request,
        count=count,
        draft_ok=draft_ok,
        above=PREVIEW_ABOVE,
        now_count=scoring_selectors.leads_scoring_above(
            tenant=request.tenant, membership=request.membership, above=PREVIEW_ABOVE
        ),
    )
    return render(request, "leads/partials/_scoring_preview.html", context)
