"""The one filter bar of every list page (issue 12: "one product").

    {% load filterbar %}
    {% filterbar action=list_url target="#account-results" testid="account-filters" %}
      <div class="col-md-3">…a label and a field…</div>
    {% endfilterbar %}

renders crm/partials/_filter_bar.html around the fields: a GET form that applies as the person changes it (htmx:
every field's `input` event, debounced so typing does not send a request per key; a stale answer is dropped),
keeps the query in the address bar (hx-push-url: a filtered list can be bookmarked, shared and reloaded), and ends
with the same Reset link (the list unfiltered, or `reset`) and a Filter button for browsers without JavaScript.
The selects' empty choice says "Any …" / "全部…" (crm.filterbar.ANY and the filtersets' empty_label).

Arguments: action (the list URL), target (the results element the answer replaces), testid; optional swap
(hx-swap, "innerHTML"), select (hx-select: the part of a full-page answer to take, for views without a partial),
reset (the Reset link, default: action), extra_class, form_id (the form's id, for scripts).
"""

from __future__ import annotations

from typing import Any

from django import template
from django.template.base import FilterExpression, NodeList, Parser, Token

register = template.Library()

TEMPLATE = "crm/partials/_filter_bar.html"


class FilterBarNode(template.Node):
    def __init__(self, nodelist: NodeList, options: dict[str, FilterExpression]) -> None:
        self.nodelist = nodelist
        self.options = options

    def render(self, context: template.Context) -> str:
        values: dict[str, Any] = {key: expr.resolve(context) for key, expr in self.options.items()}
        values.setdefault("swap", "innerHTML")
        values["reset"] = values.get("reset") or values["action"]
        values["fields"] = self.nodelist.render(context)  # a SafeString: the page's own template output
        # The engine's own Template (not the backend wrapper): it renders in a copy of this context, so the
        # context processors are not run a second time for the bar.
        engine = context.template.engine if context.template is not None else template.Engine.get_default()
        bar: template.Template = engine.get_template(TEMPLATE)
        return bar.render(context.new(values))


@register.tag("filterbar")
def do_filterbar(parser: Parser, token: Token) -> FilterBarNode:
    bits = token.split_contents()[1:]
    options: dict[str, FilterExpression] = {}
    for bit in bits:
        key, sep, value = bit.partition("=")
        if not sep:
            raise template.TemplateSyntaxError(f"filterbar takes key=value arguments, not {bit!r}")
        options[key] = parser.compile_filter(value)
    for required in ("action", "target", "testid"):
        if required not in options:
            raise template.TemplateSyntaxError(f"filterbar needs {required}=")
    nodelist = parser.parse(("endfilterbar",))
    parser.delete_first_token()
    return FilterBarNode(nodelist, options)
