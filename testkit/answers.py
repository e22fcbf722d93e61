"""What the tests' and benchmarks' enterprise answers: the eligible applicant of the
2024 Nansha call, in every language, and the details its draft asks for."""

from __future__ import annotations

from forms.definition import programme

# What an eligible enterprise answers, by question id: typed text, or a button's label
# (Simplified Chinese); a cluster is "group/cluster".
ELIGIBLE_ZH = {
    "enterprise_name": "广州南沙示例科技有限公司",
    "uscc": "91440115MA59X0001Q",  # registered in Nansha (440115)
    "contact_name": "李明",
    "contact_phone": "138 0013 8000",
    "in_nansha": "是",
    "cluster": "战略性新兴产业集群/智能机器人",
    "sub_field": "协作机器人力控关节",
    "rd_leading": "是",
    "rd_evidence": "牵头制定行业标准2项",
    "revenue_y1": "10,000",
    "revenue_y2": "12000",
    "revenue_y3": "１５０００",
    "rd_y1": "500",
    "rd_y2": "600",
    "rd_y3": "800",
    "ip_expense": "40",
    "operating_normally": "是",
    "legal_person": "具有独立法人资格",
    "independent_accounting": "是",
    "credit_compliant": "是",
    "ip_management": "已通过 GB/T 29490 知识产权管理体系认证",
    "serious_dishonesty": "否",
    "abnormal_patents": "否",
    "prior_project": "否",
    "joint_count": "0",
}


def eligible_answers(locale: str) -> dict[str, str]:
    """ELIGIBLE_ZH as a user of another language answers: the same choices, their labels."""
    from locales import translator

    zh, t = translator("zh_CN"), translator(locale)
    form = programme("nansha-2024")
    answers = {}
    for qid, answer in ELIGIBLE_ZH.items():
        question = form.question(qid)
        keys = [o.label for o in question.options] + [g.label for g in question.groups]
        labels = {zh(key): t(key) for key in keys}
        labels |= {zh("button.yes"): t("button.yes"), zh("button.no"): t("button.no")}
        parts = answer.split("/") if question.groups else [answer]  # "group/cluster"
        answers[qid] = "/".join(labels.get(part, part) for part in parts)
    return answers


# What the same enterprise answers to the draft's details questionnaire (Simplified Chinese).
DETAILS_ZH = {
    "address": "广州市南沙区海滨路1号",
    "legal_representative": "王强",
    "centre_head_name": "陈静",
    "centre_head_title": "副总经理",
    "ip_department": "是",
    "ip_staff": "3",
    "core_technology": "协作机器人力控关节",
    "main_products": "协作机器人",
    "product_revenue": "8,000",
    "planned_patents": "20",
    "planned_event": "2024年10月，南沙，面向区内企业",
}
