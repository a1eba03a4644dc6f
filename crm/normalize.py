"""Plain normalizers shared by every app (one copy each): company names, web domains and phone numbers.

Duplicate checks of leads and accounts both compare `company_key` of two names, so a company is found (or not) the
same way whichever record it is typed into. The legal-suffix list is the union of what both apps used to drop.
"""

from __future__ import annotations

import functools
import re
import unicodedata

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


# The place a Chinese company is registered, written before its trade name ("北京字节跳动科技有限公司" is 字节跳动 of
# Beijing): the municipalities, provincial capitals and big commercial cities, and 中国. company_key drops it, so the
# trade name alone finds the registered name.
CJK_REGION_PREFIXES = sorted(
    [
        "中国",
        "北京",
        "上海",
        "天津",
        "重庆",
        "深圳",
        "广州",
        "杭州",
        "南京",
        "苏州",
        "无锡",
        "宁波",
        "厦门",
        "福州",
        "成都",
        "武汉",
        "西安",
        "长沙",
        "郑州",
        "济南",
        "青岛",
        "合肥",
        "沈阳",
        "大连",
        "哈尔滨",
        "长春",
        "石家庄",
        "太原",
        "南昌",
        "南宁",
        "昆明",
        "贵阳",
        "兰州",
        "海口",
        "东莞",
        "佛山",
        "珠海",
        "香港",
        "澳门",
        "台北",
        "广东",
        "江苏",
        "浙江",
        "山东",
        "福建",
        "四川",
        "湖北",
        "湖南",
        "河南",
        "河北",
    ],
    key=len,
    reverse=True,
)


# Line-of-business words: a name that is only a region and these ("北京科技有限公司") keeps its region, or every
# such name would look the same.
CJK_INDUSTRY_WORDS = [
    "信息技术",
    "网络科技",
    "信息科技",
    "电子商务",
    "新能源",
    "科技",
    "技术",
    "网络",
    "信息",
    "电子",
    "软件",
    "实业",
    "贸易",
    "咨询",
    "智能",
    "数据",
    "工业",
    "制造",
    "物流",
    "医药",
    "生物",
    "能源",
    "传媒",
    "文化",
    "发展",
    "服务",
    "设备",
    "机械",
    "电气",
    "工程",
    "投资",
]


def _only_industry_words(text: str) -> bool:
    while text:
        word = next((w for w in CJK_INDUSTRY_WORDS if text.startswith(w)), None)
        if word is None:
            return False
        text = text[len(word) :]
    return True


def _drop_cjk_region(text: str) -> str:
    """ "北京字节跳动科技" -> "字节跳动科技", "上海市华信科技" -> "华信科技"; "北京科技" and "北京华" stay (what would
    remain is only a line of business, or shorter than two characters)."""
    for region in CJK_REGION_PREFIXES:
        for prefix in (region + "市", region + "省", region):
            if text.startswith(prefix):
                rest = text[len(prefix) :].lstrip()
                if len(rest) >= 2 and not _only_industry_words(rest):
                    return rest
                return text
    return text


_BRACKETED_REGION_RE = re.compile(r"\(\s*(?:" + "|".join(CJK_REGION_PREFIXES) + r")[市省]?\s*\)")


# A pure function of the name, kept for the names seen last: an import gives many leads, contacts and accounts of
# one company (a chunk of leads repeats its companies), and the key costs ~30 µs to make.
@functools.lru_cache(maxsize=4096)
def company_key(name: str) -> str:
    """The comparable form of a company name: full-width forms folded (NFKC: "ＡＣＭＥ" -> "ACME"), a bracketed
    region dropped, its core (normalize_company_name) upper-cased, punctuation dropped, single-spaced, and a
    Chinese name's leading region dropped ("Shanghai Huaxin Technology Co., Ltd." -> "SHANGHAI HUAXIN
    TECHNOLOGY", "北京字节跳动科技有限公司" -> "字节跳动科技", "腾讯科技（深圳）有限公司" -> "腾讯科技")."""
    folded = unicodedata.normalize("NFKC", name or "")
    # "腾讯科技（深圳）有限公司": a region in brackets says where this entity is registered, not who it is.
    folded = _BRACKETED_REGION_RE.sub(" ", folded)
    value = re.sub(r"[^\w]+", " ", normalize_company_name(folded))
    key = " ".join(value.split()).upper()
    # No spaces next to Chinese characters ("ACME 工业" is "ACME工业"): Chinese writes no word breaks.
    key = re.sub(r"\s+(?=[^\x00-\x7f])|(?<=[^\x00-\x7f])\s+", "", key)
    if key and not key[0].isascii():
        key = _drop_cjk_region(key)
    return key


# Two company keys name the same company when one is the other followed by more (_continues: "ACME" and "ACME
# INDUSTRIAL", "字节跳动" and "字节跳动科技", "DRAGON TECH" and "DRAGON TECHNOLOGY"), or when their trigram
# similarity reaches COMPANY_MATCH_THRESHOLD. Measured on pairs of real Chinese and English names
# (tests/test_duplicates_agree.py): different companies that share a region, a line of business or a word
# ("NORDIC DATA SYSTEMS" / "NORDIC ENERGY SYSTEMS") score up to 0.56, spellings of one company 1.0 (after
# company_key), so 0.6; 0.3 flagged noise at 0.33-0.40.
COMPANY_MATCH_THRESHOLD = 0.6


COMPANY_MIN_CHARS = 3


def _trigrams(text: str) -> set[str]:
    """pg_trgm's trigrams of a text: each run of letters and digits lower-cased, padded with two spaces before
    and one after."""
    grams: set[str] = set()
    for word in re.findall(r"[^\W_]+", text.lower()):
        padded = f"  {word} "
        grams.update(padded[i : i + 3] for i in range(len(padded) - 2))
    return grams


def trigram_similarity(a: str, b: str) -> float:
    """pg_trgm's similarity(a, b): shared trigrams / all trigrams of both."""
    ga, gb = _trigrams(a), _trigrams(b)
    union = ga | gb
    return len(ga & gb) / len(union) if union else 0.0


def _continues(longer: str, shorter: str) -> bool:
    """`longer` is `shorter` followed by more: more words ("ACME" / "ACME INDUSTRIAL"), more characters of a
    Chinese name ("字节跳动" / "字节跳动科技"), or the rest of an abbreviated last word of a name of two or more
    words ("DRAGON TECH" / "DRAGON TECHNOLOGY"; not "ACME" / "ACMEX")."""
    if len(shorter) < COMPANY_MIN_CHARS or not longer.startswith(shorter):
        return False
    if len(longer) == len(shorter):
        return True
    following = longer[len(shorter)]
    if following == " " or not following.isascii() or not shorter[-1].isascii():
        return True
    return " " in shorter


def company_match(stored_key: str, typed_key: str) -> float | None:
    """The similarity (0..1) of two company keys when they name the same company, else None; one rule for the
    duplicate checks of leads and accounts."""
    if not stored_key or not typed_key:
        return None
    score = trigram_similarity(stored_key, typed_key)
    if score >= COMPANY_MATCH_THRESHOLD:
        return score
    if _continues(stored_key, typed_key) or _continues(typed_key, stored_key):
        return score
    return None


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
