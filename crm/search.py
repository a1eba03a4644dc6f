"""Global search (the top bar's box, its results page and GET /api/v1/t/<slug>/search/).

The core knows no domain model: each app registers the kinds it can search in its AppConfig.ready()

    register_search_kind(SearchKind("lead", _("Leads"), 10, search=lead_search, list_url_name="leads:lead-list"))

A kind's `search` reads through the app's own visibility selectors (the querysets its list pages use), so a
member finds exactly what those pages show them, and one SQL statement per kind: a search costs the same number
of queries whatever the data size. The `see all` link opens the kind's list page with the same `q` applied.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import urlencode

from django.db.models import Q
from django.db.models.expressions import RawSQL
from django.urls import reverse
from django.utils.functional import Promise

from crm.models import Membership, Role, Tenant
from crm.normalize import phone_digits
from crm.visibility import SEES_ALL

# Results shown per kind in the dropdown and on the results page; a kind reads up to RANK_POOL matches to rank.
PER_KIND = 5
RANK_POOL = 40
MAX_QUERY_LENGTH = 100
# A query made only of digits and phone punctuation, with at least this many digits, is a phone number: it is
# searched as its digits, so "138 0000 1111", "138-0000-1111" and "13800001111" all find "+86 138-0000-1111".
PHONE_MIN_DIGITS = 5
_PHONE_CHARS = re.compile(r"^[\d\s()+\-./]+$")
# CJK ideographs (and kana, hangul): one such character already narrows a search; Latin text needs two.
_CJK = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7af\uf900-\ufaff]")


@dataclass(frozen=True)
class SearchTerms:
    """A parsed query: `text` lower-cased with single spaces; `digits` set when the query is a phone number."""

    raw: str
    text: str
    digits: str = ""

    @property
    def needle(self) -> str:
        """What the kinds look for in their lower-cased search columns (search_text holds a phone's digits)."""
        return self.digits or self.text

    @property
    def searchable(self) -> bool:
        if self.digits:
            return True
        return len(self.text) >= 2 or bool(_CJK.search(self.text))


def parse_query(value: str | None) -> SearchTerms:
    raw = " ".join((value or "").split())[:MAX_QUERY_LENGTH]
    text = raw.lower()
    digits = phone_digits(raw) if _PHONE_CHARS.match(raw) else ""
    if len(digits) < PHONE_MIN_DIGITS:
        digits = ""
    return SearchTerms(raw=raw, text=text, digits=digits)


# A kind whose visibility is wider than the owner (account teams, shared accounts, the CS role's customer stages)
# asks the index for up to this many matches of other owners besides the member's own: its visibility rule then
# decides among those few (for contacts that rule is the costliest part: 2,000 candidates took 250 ms at a
# million leads). Past that a word is common, and the kind's list page ("see all") lists every match.
MATCH_CAP = 500


def index_ids(
    kind: str,
    terms: SearchTerms,
    *,
    limit: int,
    membership: Membership | None = None,
    unowned: bool = False,
    others: int = MATCH_CAP,
) -> RawSQL:
    """The ids of up to `limit` records of `kind` matching the query, from the search index (crm_search_entry,
    through the SECURITY DEFINER function crm_search_ids: crm/search_index.py), as a subquery for `pk__in`.

    The function takes the tenant from the transaction's `app.tenant_id` and knows nothing of roles: the caller
    filters the ids through the kind's visibility queryset. With a `membership` whose role does not see every
    owner's records (crm.visibility.SEES_ALL), it returns up to `limit` matches of the member's own (a manager's:
    the team's), up to `limit` of nobody's with `unowned` (the lead pool), then up to `others` (MATCH_CAP) of other
    owners for visibility rules wider than the owner (account teams, shared accounts, the CS role's customer
    stages; 0 for leads, whose rule is the owner's): each part has its own LIMIT, so a rep's own matches are not
    crowded out by their colleagues'."""
    base = [kind, name_variants(terms.needle), limit]
    if membership is None or membership.role in SEES_ALL:
        return RawSQL("SELECT * FROM crm_search_ids(%s, %s::text[], %s)", base)
    # The owners as an SQL array, read inside this statement (no query of its own): crm.visibility.owner_scope's
    # rule, the manager and every member of their team, or the member alone.
    if membership.role == Role.SALES_MANAGER and membership.team_id:
        return RawSQL(
            "SELECT * FROM crm_search_ids(%s, %s::text[], %s, "
            "ARRAY(SELECT user_id FROM crm_membership WHERE tenant_id = %s AND team_id = %s) || %s::bigint, %s, %s)",
            [*base, membership.tenant_id, membership.team_id, membership.user_id, unowned, others],
        )
    return RawSQL(
        "SELECT * FROM crm_search_ids(%s, %s::text[], %s, ARRAY[%s]::bigint[], %s, %s)",
        [*base, membership.user_id, unowned, others],
    )


def name_variants(term: str) -> list[str]:
    """`term` and, for a Chinese (Japanese, Korean) name typed as it reads, surname first with no space (张伟,
    欧阳娜娜), the arrangements the search columns hold: they join first and last name with a space ("伟 张")."""
    variants = [term]
    if " " not in term and 2 <= len(term) <= 6 and all(_CJK.match(char) for char in term):
        variants += [f"{term[cut:]} {term[:cut]}" for cut in (1, 2) if cut < len(term)]
    return variants


def search_text_q(term: str, field: str = "search_text") -> Q:
    """Substring match on a lower-cased search column (the list pages' `q` and the global search alike)."""
    q = Q()
    for variant in name_variants(term):
        q |= Q(**{f"{field}__contains": variant})
    return q


@dataclass
class SearchHit:
    id: int
    title: str
    subtitle: str
    url: str
    # Ranking only: the hit's name starts with the query (or equals it), and its age (newer first).
    starts: bool = False
    exact: bool = False
    recency: float = 0.0


SearchFunction = Callable[..., list[SearchHit]]


@dataclass(frozen=True)
class SearchKind:
    key: str
    label: str | Promise
    order: int
    # search(*, tenant, membership, terms, limit) -> up to `limit` visible matches, in one query.
    search: SearchFunction
    list_url_name: str
    # Whether the member has the kind at all (a role without the list page is not searched: no query).
    visible_to: Callable[[Membership], bool] = lambda membership: True
    # Extra parameters of the list page's "see all" link for the member (e.g. the inbox's team tab).
    list_params: Callable[[Membership], dict[str, str]] = lambda membership: {}
    icon: str = "search"
    # Whether the kind's records have phone numbers: a phone-number query does not read the others.
    has_phones: bool = True


@dataclass
class SearchGroup:
    kind: str
    label: str
    icon: str
    hits: list[SearchHit] = field(default_factory=list)
    more: bool = False
    see_all_url: str = ""


_KINDS: dict[str, SearchKind] = {}


def register_search_kind(kind: SearchKind) -> SearchKind:
    existing = _KINDS.get(kind.key)
    if existing is not None and existing != kind:
        raise ValueError(f"search kind {kind.key!r} is registered twice")
    _KINDS[kind.key] = kind
    return kind


def search_kinds() -> list[SearchKind]:
    return sorted(_KINDS.values(), key=lambda kind: (kind.order, kind.key))


def rank(hits: list[SearchHit]) -> list[SearchHit]:
    """Exact names first, then names that start with the query, then the newest."""
    return sorted(hits, key=lambda hit: (not hit.exact, not hit.starts, -hit.recency, -hit.id))


def name_flags(name: str, terms: SearchTerms) -> dict[str, bool]:
    folded = " ".join(name.lower().split())
    return {"exact": folded == terms.text, "starts": folded.startswith(terms.text)}


def global_search(
    *, tenant: Tenant, membership: Membership, terms: SearchTerms, per_kind: int = PER_KIND
) -> list[SearchGroup]:
    """Every kind the member has, each with its best `per_kind` visible matches (one query per kind) and a link
    to its list page filtered by the same query. An unsearchable query (one Latin letter, blank) reads nothing."""
    if not terms.searchable:
        return []
    groups = []
    for kind in search_kinds():
        if not kind.visible_to(membership) or (terms.digits and not kind.has_phones):
            continue
        found = kind.search(tenant=tenant, membership=membership, terms=terms, limit=RANK_POOL + 1)
        ranked = rank(found[:RANK_POOL])
        params = {**kind.list_params(membership), "q": terms.needle}
        groups.append(
            SearchGroup(
                kind=kind.key,
                label=str(kind.label),
                icon=kind.icon,
                hits=ranked[:per_kind],
                more=len(found) > per_kind,
                see_all_url=reverse(kind.list_url_name, kwargs={"slug": tenant.slug})
                + "?"
                + urlencode(params),
            )
        )
    return groups
