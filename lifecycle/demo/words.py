"""The words of the customer-success demo, per tenant language ("zh" for acme, "en" for globex)."""

from __future__ import annotations

# Plans by tier and billing rhythm.
PLANS: dict[str, dict[str, dict[str, str]]] = {
    "zh": {
        "annual": {
            "key": "旗舰版（年付）",
            "strategic": "企业版（年付）",
            "standard": "专业版（年付）",
            "long_tail": "标准版（年付）",
        },
        "semiannual": {
            "key": "旗舰版（半年付）",
            "strategic": "企业版（半年付）",
            "standard": "专业版（半年付）",
            "long_tail": "标准版（半年付）",
        },
        "monthly": {
            "key": "旗舰版（月付）",
            "strategic": "企业版（月付）",
            "standard": "专业版（月付）",
            "long_tail": "标准版（月付）",
        },
    },
    "en": {
        "annual": {
            "key": "Enterprise Plus (annual)",
            "strategic": "Enterprise (annual)",
            "standard": "Professional (annual)",
            "long_tail": "Starter (annual)",
        },
        "semiannual": {
            "key": "Enterprise Plus (6 months)",
            "strategic": "Enterprise (6 months)",
            "standard": "Professional (6 months)",
            "long_tail": "Starter (6 months)",
        },
        "monthly": {
            "key": "Enterprise Plus (monthly)",
            "strategic": "Enterprise (monthly)",
            "standard": "Professional (monthly)",
            "long_tail": "Starter (monthly)",
        },
    },
}

CHURN_REASONS = {
    "zh": [
        "预算削减，合同到期未续",
        "转用竞争对手的产品",
        "项目负责人离职，无人推动续约",
        "公司被收购，统一采购集团系统",
        "使用率低，认为价值不足",
        "价格谈判未达成一致",
    ],
    "en": [
        "Budget cut, contract not renewed",
        "Moved to a competitor",
        "Champion left, nobody drove the renewal",
        "Acquired; the group standardised on its own system",
        "Low usage, value not seen",
        "No agreement on price",
    ],
}

# Feedback comments by sentiment: promoter (NPS 9-10 / CSAT 5), passive, detractor.
COMMENTS = {
    "zh": {
        "promoter": [
            "上线很顺利，团队响应非常及时。",
            "报表功能帮我们节省了大量时间。",
            "客户成功经理很专业，推荐给同行了。",
            "稳定可靠，今年准备扩大使用范围。",
        ],
        "passive": [
            "整体还可以，移动端体验有待提升。",
            "功能够用，但培训资料希望更详细。",
            "价格偏高，但服务不错。",
        ],
        "detractor": [
            "最近几次故障影响了生产，很不满意。",
            "工单处理太慢，问题拖了两周。",
            "新版本改动太大，员工不习惯。",
            "接口对接一直有问题，考虑其他方案。",
        ],
    },
    "en": {
        "promoter": [
            "Smooth go-live, the team answers fast.",
            "The reports save us hours every week.",
            "Our CSM is great, we recommended you to peers.",
            "Rock solid; we plan to roll it out to more sites.",
        ],
        "passive": [
            "Fine overall, the mobile app needs work.",
            "Does the job; training material could be better.",
            "A bit pricey, but good service.",
        ],
        "detractor": [
            "Two outages last month hit our production.",
            "Tickets take far too long, one was open two weeks.",
            "The new release changed too much, people are lost.",
            "The integration keeps failing, we are looking at options.",
        ],
    },
}

# Open tasks CS left overdue on at-risk accounts; check-ins on healthy ones.
OVERDUE_TASKS = {
    "zh": ["跟进投诉工单", "安排季度业务回顾", "确认续约决策人", "发送使用情况报告"],
    "en": [
        "Follow up on the escalated ticket",
        "Book the quarterly business review",
        "Confirm the renewal decision maker",
        "Send the usage report",
    ],
}
CHECK_INS = {
    "zh": ["客户成功例行回访", "季度业务回顾", "新功能培训", "使用情况沟通"],
    "en": ["CS check-in call", "Quarterly business review", "Training on new features", "Usage review"],
}
