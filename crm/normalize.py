"""Plain normalizers shared by every app (one copy each): company names, web domains and phone numbers.

Duplicate checks of leads and accounts both compare `company_key` of two names, so a company is found (or not) the
same way whichever record it is typed into. The legal-suffix list is the union of what both apps used to drop.
"""

from __future__ import annotations

import re

LEGAL_SUFFIXES = [
    # Longest first, so "股份有限公司" goes before "有限公司" and "gmbh & co. kg" before "gmbh".
    "股份有限公司",
    "有限责任公司",
    "集团有限公司",
    "有限公司",
    "集团",
    "公司",
    "corporation",
    "incorporated",
    "limited",
    "company",
    "holding",
    "holdings",
    "gmbh & co. kg",
    "gmbh & co kg",
    "group",
    "gmbh",
    "sarl",
    "corp",
    "inc",
    "llc",
    "ltd",
    "plc",
    "co",
    "ag",
    "kg",
    "se",
    "sa",
    "sas",
    "srl",
    "bv",
    "nv",
    "oy",
    "ab",
]


def _suffix_pattern(suffix: str) -> str:
    """A legal suffix, letting dots and spaces vary ("B.V.", "BV", "Co., Ltd")."""
    parts = [re.escape(ch) for ch in suffix if ch not in ". "]
    return r"[.\s&]*".join(parts)


_SUFFIX_RE = re.compile(
    r"(?:[\s,.]+(?:" + "|".join(_suffix_pattern(s) for s in LEGAL_SUFFIXES if s.isascii()) + r")\.?)+\s*$",
    re.IGNORECASE,
)
_CJK_SUFFIXES = [suffix for suffix in LEGAL_SUFFIXES if not suffix.isascii()]


def normalize_company_name(name: str) -> str:
    """The core of a company name, as typed (case kept): trimmed, single-spaced, legal suffixes dropped
    ("Acme Industrial GmbH" -> "Acme Industrial", "北京华信科技有限公司" -> "北京华信科技"). A name that is only a
    legal form stays as it is."""
    text = re.sub(r"\s+", " ", (name or "").strip())
    # "Acme Holding Co., Ltd." needs more than one pass; three covers every stacking seen in practice.
    for _round in range(3):
        before = text
        text = _SUFFIX_RE.sub("", text).strip(" ,.")
        for suffix in _CJK_SUFFIXES:
            # Keep at least two characters: "华信公司" -> "华信", but "信公司" stays a name.
            if text.endswith(suffix) and len(text) > len(suffix) + 1:
                text = text[: -len(suffix)].strip()
        if text == before:
            break
    return text or (name or "").strip()


def company_key(name: str) -> str:
    """The comparable form of a company name: its core (normalize_company_name) upper-cased, punctuation
    dropped, single-spaced ("Shanghai Huaxin Technology Co., Ltd." -> "SHANGHAI HUAXIN TECHNOLOGY")."""
    value = re.sub(r"[^\w]+", " ", normalize_company_name(name))
    return " ".join(value.split()).upper()


def normalize_domain(domain: str) -> str:
    """A web domain without scheme, path, user part and "www." ("HTTPS://www.Example.com/about" -> "example.com")."""
    text = (domain or "").strip().lower()
    text = re.sub(r"^[a-z][a-z0-9+.-]*://", "", text)
    text = text.split("/")[0].split("?")[0].split("#")[0]
    text = text.split("@")[-1]
    if text.startswith("www."):
        text = text[4:]
    return text.strip(".")


def phone_digits(phone: str) -> str:
    """The digits of a phone number, "+86 (138) 0013-8000" -> "8613800138000"."""
    return re.sub(r"\D", "", phone or "")
