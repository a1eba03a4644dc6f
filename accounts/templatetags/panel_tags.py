"""Renders a panel that another app registered for a page (accounts.panels) inside the page's own context, so
the panel's template sees the tenant, the member and the request like the page does, plus its own context."""

from __future__ import annotations

from django import template
from django.template.context import Context
from django.utils.safestring import SafeString

from accounts.panels import ShownPanel

register = template.Library()


@register.simple_tag(takes_context=True)
def render_panel(context: Context, panel: ShownPanel) -> SafeString:
    tpl = context.template.engine.get_template(panel.template)  # type: ignore[union-attr]
    with context.push(**panel.context):
        return tpl.render(context)
