"""Words of the leads demo in each language (names, companies, titles, regions, industries) and the small
random pickers built on them."""

from __future__ import annotations

import random
from typing import Any

from leads.models import SizeBand

ZH: dict[str, Any] = {
    "surnames": "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈",
    "given": [
        "伟",
        "芳",
        "娜",
        "敏",
        "静",
        "丽",
        "强",
        "磊",
        "军",
        "洋",
        "勇",
        "艳",
        "杰",
        "娟",
        "涛",
        "明",
        "超",
        "秀英",
        "霞",
        "平",
        "刚",
        "桂英",
        "建华",
        "晓东",
        "海燕",
        "志强",
        "文博",
        "雨桐",
        "子涵",
        "思远",
    ],
    "cities": [
        "上海",
        "苏州",
        "杭州",
        "南京",
        "合肥",
        "深圳",
        "广州",
        "厦门",
        "北京",
        "天津",
        "成都",
        "武汉",
        "宁波",
        "无锡",
    ],
    "words": [
        "华信",
        "恒通",
        "瑞丰",
        "博远",
        "天成",
        "鼎新",
        "汇智",
        "嘉禾",
        "同创",
        "宏达",
        "金桥",
        "星辰",
        "云帆",
        "正泰",
        "中科",
        "联创",
        "新元",
        "海纳",
        "东方",
        "锦程",
        "泰和",
        "远景",
        "安迅",
        "启明",
    ],
    "trades": [
        "科技",
        "精密制造",
        "信息技术",
        "物流",
        "医疗器械",
        "电子",
        "新材料",
        "智能装备",
        "软件",
        "供应链",
        "零售",
    ],
    "suffix": ["有限公司", "股份有限公司", "集团有限公司"],
    "regions": ["上海", "江苏", "浙江", "安徽", "广东", "福建", "北京", "天津", "河北", "四川", "湖北"],
    "industries": ["制造业", "软件与信息服务", "零售", "物流", "金融", "医疗"],
    "titles": [
        "采购经理",
        "IT总监",
        "运营总监",
        "总经理",
        "销售经理",
        "财务总监",
        "技术经理",
        "实习生",
        "工程师",
    ],
    "email_domains": ["qq.com", "163.com"],
    "reasons": [
        "没有预算",
        "已选择竞争对手",
        "联系不上",
        "需求不匹配",
        "重复线索",
        "学生/个人用户",
        "时机未到",
    ],
    "phone": lambda rng: (
        f"+86 1{rng.choice('3589')}{rng.randint(0, 9)} {rng.randint(1000, 9999)} {rng.randint(1000, 9999)}"
    ),
}


EN: dict[str, Any] = {
    "first": [
        "Anna",
        "Lukas",
        "Lena",
        "Jonas",
        "Marie",
        "Felix",
        "Sophie",
        "Paul",
        "Laura",
        "Max",
        "Emma",
        "Leon",
        "Hannah",
        "Tim",
        "Julia",
        "Jan",
        "Sarah",
        "David",
        "Lisa",
        "Tom",
        "Eva",
        "Niklas",
        "Clara",
        "Ben",
        "Olivia",
        "James",
        "Pieter",
        "Sanne",
        "Erik",
        "Ingrid",
    ],
    "last": [
        "Müller",
        "Schmidt",
        "Schneider",
        "Fischer",
        "Weber",
        "Meyer",
        "Wagner",
        "Becker",
        "Schulz",
        "Hoffmann",
        "Koch",
        "Richter",
        "Klein",
        "Wolf",
        "Schröder",
        "Neumann",
        "Braun",
        "Zimmermann",
        "Hartmann",
        "Krüger",
        "Smith",
        "Jones",
        "de Vries",
        "Jansen",
        "Andersson",
        "Nielsen",
        "Huber",
        "Gruber",
        "Keller",
        "Baumann",
    ],
    "cities": [
        "Berlin",
        "Hamburg",
        "München",
        "Köln",
        "Stuttgart",
        "Wien",
        "Zürich",
        "Basel",
        "Rotterdam",
        "Antwerp",
        "Malmö",
        "Aarhus",
        "Leipzig",
        "Dresden",
        "Graz",
        "Utrecht",
    ],
    "words": [
        "Nord",
        "Alpen",
        "Rhein",
        "Elb",
        "Donau",
        "Hansa",
        "Vector",
        "Nova",
        "Kraft",
        "Licht",
        "Stahl",
        "Blau",
        "Grün",
        "Prima",
        "Helix",
        "Orbit",
        "Delta",
        "Falken",
        "Linden",
        "Eichen",
    ],
    "trades": [
        "Maschinenbau",
        "Logistik",
        "Software",
        "Medizintechnik",
        "Elektronik",
        "Systems",
        "Automation",
        "Handel",
        "Werkstoffe",
        "Analytics",
    ],
    "suffix": ["GmbH", "AG", "GmbH & Co. KG", "SE", "B.V.", "AB"],
    "regions": [
        "Germany",
        "Austria",
        "Switzerland",
        "Netherlands",
        "Belgium",
        "Luxembourg",
        "Sweden",
        "Denmark",
        "France",
        "United Kingdom",
    ],
    "industries": ["Manufacturing", "Software", "Retail", "Logistics", "Finance", "Healthcare"],
    "titles": [
        "Head of IT",
        "Purchasing Director",
        "CTO",
        "COO",
        "Operations Manager",
        "Head of Sales",
        "CFO",
        "Working Student",
        "Intern",
        "Engineer",
    ],
    "email_domains": ["gmail.com", "web.de"],
    "reasons": [
        "No budget",
        "Chose a competitor",
        "Unreachable",
        "Not a fit",
        "Duplicate",
        "Student / private",
        "Bad timing",
    ],
    "phone": lambda rng: f"+49 {rng.randint(30, 89)} {rng.randint(100000, 9999999)}",
}


SIZE_WEIGHTS = [
    (SizeBand.XS, 14),
    (SizeBand.S, 26),
    (SizeBand.M, 26),
    (SizeBand.L, 18),
    (SizeBand.XL, 10),
    (SizeBand.XXL, 6),
]


def demo_lang(tenant: Any) -> str:
    return "zh" if (tenant.default_locale or "").startswith("zh") else "en"


def demo_person(words: dict, lang: str, rng: random.Random) -> tuple[str, str]:
    if lang == "zh":
        return rng.choice(words["given"]), rng.choice(words["surnames"])
    return rng.choice(words["first"]), rng.choice(words["last"])


def demo_company(words: dict, lang: str, rng: random.Random) -> str:
    if lang == "zh":
        return f"{rng.choice(words['cities'])}{rng.choice(words['words'])}{rng.choice(words['trades'])}{rng.choice(words['suffix'])}"
    return f"{rng.choice(words['words'])}{rng.choice(['', ' ', '-'])}{rng.choice(words['trades'])} {rng.choice(words['suffix'])}"


def demo_slug(text: str) -> str:
    ascii_only = "".join(ch for ch in text.lower() if ch.isascii() and ch.isalnum())
    return ascii_only[:18] or "co"


def demo_email(
    first: str, last: str, company: str, lead_no: int, lang: str, words: dict, rng: random.Random
) -> str:
    if lang == "zh":
        box = rng.choice(["sales", "info", "it", "purchase", "ops", "service"])
        domain = rng.choice(words["email_domains"] + [f"corp{lead_no % 611}.cn"] * 3)
        return f"{box}{lead_no}@{domain}"
    if rng.random() < 0.15:
        return f"{demo_slug(first)}{lead_no}@{rng.choice(words['email_domains'])}"
    return f"{demo_slug(first)}.{demo_slug(last)}{lead_no % 10 if rng.random() < 0.2 else ''}@{demo_slug(company)}.example"


def weighted_choice(rng: random.Random, pairs: list[tuple[Any, int]]) -> Any:
    return rng.choices([p[0] for p in pairs], weights=[p[1] for p in pairs], k=1)[0]
