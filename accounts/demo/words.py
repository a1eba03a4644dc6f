"""Words of the demo data, in Chinese and in German/English: company name parts, cities, industries, regions,
people's names, titles, activity subjects and bodies."""

from __future__ import annotations

from typing import Any

from accounts.models import ActivityKind

ZH_CITIES = [
    "上海",
    "北京",
    "深圳",
    "杭州",
    "苏州",
    "南京",
    "广州",
    "成都",
    "武汉",
    "天津",
    "宁波",
    "西安",
    "青岛",
    "厦门",
]


ZH_CORES = [
    "华信",
    "恒瑞",
    "中科",
    "东方",
    "远航",
    "金桥",
    "瑞丰",
    "博远",
    "天成",
    "汇通",
    "鼎盛",
    "永利",
    "宏达",
    "嘉禾",
    "星辰",
    "新锐",
    "诚泰",
    "海川",
    "云帆",
    "安康",
    "立邦",
    "启明",
    "锦程",
    "长城",
    "明德",
    "盛世",
    "华创",
    "同方",
]


ZH_KINDS = [
    "科技",
    "精密机械",
    "电子",
    "物流",
    "医疗器械",
    "新材料",
    "汽车零部件",
    "软件",
    "化工",
    "食品",
    "能源",
    "环保",
]


ZH_SUFFIX = ["有限公司", "股份有限公司", "集团有限公司"]


ZH_INDUSTRIES = [
    "制造业",
    "信息技术",
    "物流运输",
    "医疗健康",
    "零售",
    "能源",
    "金融服务",
    "汽车",
    "化工",
    "教育",
]


ZH_REGIONS = ["华东", "华北", "华南", "西南", "华中"]


ZH_SURNAMES = [
    "王",
    "李",
    "张",
    "刘",
    "陈",
    "杨",
    "赵",
    "黄",
    "周",
    "吴",
    "徐",
    "孙",
    "胡",
    "朱",
    "高",
    "林",
    "何",
    "郭",
]


ZH_GIVEN = [
    "伟",
    "芳",
    "娜",
    "敏",
    "静",
    "磊",
    "洋",
    "勇",
    "艳",
    "杰",
    "娟",
    "涛",
    "明",
    "超",
    "霞",
    "平",
    "刚",
    "丽",
]


ZH_TITLES = ["采购经理", "IT总监", "总经理", "财务总监", "运营经理", "技术负责人", "采购专员", "副总裁"]


DE_CORES = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Schulz",
    "Koch",
    "Richter",
    "Klein",
    "Wolf",
    "Neumann",
    "Schwarz",
    "Nordwind",
    "Alpen",
    "Rhein",
    "Hansa",
    "Bavaria",
    "Elbe",
    "Brightline",
    "Northgate",
    "Silverline",
    "Bluewater",
    "Oakridge",
    "Redstone",
]


DE_KINDS = [
    "Maschinenbau",
    "Logistik",
    "Medizintechnik",
    "Software",
    "Elektronik",
    "Chemie",
    "Automotive",
    "Energie",
    "Systems",
    "Analytics",
    "Foods",
    "Robotics",
]


DE_SUFFIX = ["GmbH", "AG", "GmbH & Co. KG", "SE", "Ltd", "B.V."]


EN_INDUSTRIES = [
    "Manufacturing",
    "Software",
    "Logistics",
    "Healthcare",
    "Retail",
    "Energy",
    "Financial services",
    "Automotive",
    "Chemicals",
    "Education",
]


EN_REGIONS = ["DACH", "Nordics", "Benelux", "UK & Ireland", "France", "Iberia"]


DE_FIRST = [
    "Anna",
    "Lukas",
    "Lea",
    "Jonas",
    "Mia",
    "Felix",
    "Emma",
    "Paul",
    "Sophie",
    "Max",
    "Laura",
    "Tim",
    "Julia",
    "Oliver",
    "Hannah",
    "James",
    "Emily",
    "Thomas",
    "Sarah",
    "Daniel",
]


DE_LAST = [
    "Müller",
    "Schmidt",
    "Schneider",
    "Fischer",
    "Weber",
    "Meyer",
    "Wagner",
    "Becker",
    "Hoffmann",
    "Koch",
    "Smith",
    "Brown",
    "Taylor",
    "Wilson",
    "Bauer",
    "Richter",
    "Klein",
    "Wolf",
]


EN_TITLES = [
    "Head of Procurement",
    "CIO",
    "Managing Director",
    "CFO",
    "Operations Manager",
    "IT Lead",
    "Buyer",
    "VP Operations",
]


SUBJECTS: dict[str, dict[str, list[str]]] = {
    "zh": {
        ActivityKind.CALL: ["电话沟通需求", "跟进报价", "确认预算", "技术交流电话", "回访客户", "确认决策人"],
        ActivityKind.EMAIL: ["发送产品资料", "报价单邮件", "会议纪要", "合同条款确认", "发送案例介绍"],
        ActivityKind.MEETING: ["现场拜访", "产品演示", "商务谈判", "季度业务回顾", "技术方案评审"],
        ActivityKind.NOTE: [
            "客户关注交付周期",
            "决策链：采购 + IT",
            "竞品：正在评估其他供应商",
            "预算在Q3释放",
        ],
        ActivityKind.TASK: [
            "准备报价单",
            "安排演示",
            "发送合同草稿",
            "跟进付款进度",
            "预约回访",
            "整理需求清单",
        ],
    },
    "en": {
        ActivityKind.CALL: [
            "Discovery call",
            "Follow-up on the quote",
            "Budget check",
            "Technical call",
            "Check-in call",
            "Confirm decision makers",
        ],
        ActivityKind.EMAIL: [
            "Sent product brochure",
            "Quote by email",
            "Meeting notes",
            "Contract terms",
            "Case study",
        ],
        ActivityKind.MEETING: [
            "On-site visit",
            "Product demo",
            "Negotiation",
            "Quarterly business review",
            "Solution workshop",
        ],
        ActivityKind.NOTE: [
            "Cares about delivery time",
            "Buying committee: procurement + IT",
            "Also evaluating a competitor",
            "Budget released in Q3",
        ],
        ActivityKind.TASK: [
            "Prepare the quote",
            "Schedule a demo",
            "Send the contract draft",
            "Chase the payment",
            "Book a follow-up",
            "Collect requirements",
        ],
    },
}


BODIES = {
    "zh": ["", "", "客户反馈积极，下周再跟进。", "需要补充技术资料。", "对价格较敏感。"],
    "en": [
        "",
        "",
        "Positive feedback, follow up next week.",
        "Needs more technical detail.",
        "Price sensitive.",
    ],
}


def _lang(tenant: Any) -> str:
    return "zh" if tenant.currency == "CNY" or str(tenant.default_locale).startswith("zh") else "en"
