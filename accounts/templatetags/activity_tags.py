"""Display helpers of activities: the call outcome choices of the quick log, a call's summary on the timeline, the
record page a task opens."""

from __future__ import annotations

from django import template
from django.urls import NoReverseMatch, reverse
from django.utils.translation import gettext as _

from accounts.models import Activity, ActivityKind, CallOutcome

register = template.Library()


@register.simple_tag
def call_outcome_choices() -> list[tuple[str, str]]:
    return [(value, str(label)) for value, label in CallOutcome.choices]


@register.filter
def activity_label(activity: Activity) -> str:
    """The kind, and for a call what came of it: "Call · connected · 12 min"."""
    parts = [str(activity.get_kind_display())]
    if activity.kind == ActivityKind.CALL:
        if activity.outcome:
            parts.append(str(activity.get_outcome_display()))
        if activity.duration_minutes is not None:
            parts.append(_("%(minutes)s min") % {"minutes": activity.duration_minutes})
    return " · ".join(parts)


@register.simple_tag
def task_record_url(task: Activity, slug: str) -> str:
    """The page of the record a task is about, the most specific first (deal, contact, lead, account); "" when it
    is about none. The lead page is the leads app's, named by its URL (accounts imports nothing from leads)."""
    if task.opportunity_id:
        return reverse("accounts:opportunity-detail", kwargs={"slug": slug, "pk": task.opportunity_id})
    if task.contact_id:
        return reverse("accounts:contact-detail", kwargs={"slug": slug, "pk": task.contact_id})
    if task.lead_id:
        try:
            return reverse("leads:lead-detail", kwargs={"slug": slug, "pk": task.lead_id})
        except NoReverseMatch:
            return ""
    if task.account_id:
        return reverse("accounts:account-detail", kwargs={"slug": slug, "pk": task.account_id})
    return ""
