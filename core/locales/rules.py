"""Clue rules: names, one-line descriptions, and why a rule did not run (pipeline/rules)."""
from __future__ import annotations

_TABLES = {
    "payments": ("资金发放", "payments"),
    "funds": ("资金项目", "funds"),
    "allocations": ("资金拨付", "allocations"),
    "projects": ("项目", "projects"),
    "people": ("户籍人口", "people"),
    "ledger": ("村级财务", "ledger"),
    "invoices": ("票据", "invoices"),
    "complaints": ("投诉举报", "complaints"),
    "officials": ("财政供养人员库", "officials register"),
    "village_cadres": ("村干部库", "village cadres register"),
    "enterprises": ("市场主体库", "enterprises register"),
    "real_estate": ("不动产登记库", "real estate register"),
    "vehicles": ("车辆登记库", "vehicles register"),
    "deaths": ("死亡人口库", "deaths register"),
    "disabled_persons": ("残疾人证库", "disability certificates register"),
}

_RULES = {
    "R01": (("冒领（死亡人员）", "Deceased recipient"),
            ("领取人在发放所属月份之前已死亡", "The recipient died before the month the payment is for")),
    "R02": (("虚假身份", "Invalid ID number"),
            ("身份证号校验码错误，或出生日期不存在或晚于发放日期",
             "The ID number fails the check digit, or its birth date is impossible or after the payment")),
    "R03": (("财政供养人员领取", "Official receiving means-tested aid"),
            ("发放日期时领取人为在职财政供养人员", "The recipient was serving as an official on the payment date")),
    "R04": (("有车人员领取", "Vehicle owner receiving means-tested aid"),
            ("领取人在发放日期前登记有小汽车或货车", "The recipient had a car or truck registered by the payment date")),
    "R05": (("有商品房人员领取", "Property owner receiving means-tested aid"),
            ("领取人在发放日期前登记有商品房、商铺或写字楼",
             "The recipient owned commercial housing, a shop or an office by the payment date")),
    "R06": (("经营企业人员领取", "Enterprise owner receiving means-tested aid"),
            ("领取人为存续企业的法定代表人", "The recipient is the legal person of an active enterprise")),
    "R07": (("优亲厚友", "Cadre household receiving means-tested aid"),
            ("领取人属于本村在任村干部家庭（含本人）",
             "The recipient belongs to the household of a cadre serving in that village (the cadre included)")),
    "R08": (("重复领取", "Duplicate payment"),
            ("同一人同一资金同一期间多次领取", "The same person was paid the same fund for the same period again")),
    "R09": (("非本村户籍领取", "Non-resident recipient"),
            ("领取人户籍登记在其他村", "The recipient is registered in another village")),
    "R10": (("克扣/超标发放", "Off-standard payment"),
            ("发放金额与补助标准相差超过允许幅度", "The amount differs from the fund's standard beyond the tolerance")),
    "R11": (("资金滞留", "Stagnant allocation"),
            ("拨付到账超过规定天数，下拨或支出不足一半",
             "Long after the allocation, less than half of it has left the receiving region")),
    "R12": (("层级截留", "Retained at a level"),
            ("年度结束后，某级收到的资金未下拨或支出的差额超过允许比例",
             "After the fund's year, a level kept more of its inflow than the tolerance")),
    "R13": (("超进度付款", "Paid beyond progress"),
            ("项目付款超过按完成工程量计算的应付金额", "Project payments exceed the share of work completed")),
    "R14": (("未验收付清", "Paid before acceptance"),
            ("项目验收前付款已达合同金额的九成", "Payments reached 90% of the contract before acceptance")),
    "R15": (("关联交易", "Contractor linked to a cadre"),
            ("承包企业法定代表人为本村村干部或其家庭成员",
             "The contractor's legal person is a cadre of the project's village or in a cadre's household")),
    "R16": (("未经集体研究", "Missing collective approval"),
            ("大额支出未经集体研究决定", "A large expense without a collective decision")),
    "R17": (("未及时入账", "Late booking"),
            ("业务发生后超过规定天数才入账", "Entered in the books long after the transaction")),
    "R18": (("化整为零", "Split expenses"),
            ("短期内向同一对象多笔小额支出，合计达到集体研究标准",
             "Several small payments to one counterparty within days, together above the approval threshold")),
    "R19": (("重复报销", "Duplicate invoice"),
            ("同一发票被多次报销", "The same invoice was used again")),
    "R20": (("票据不足", "Unsupported expense"),
            ("支出缺少票据或票据金额不足", "The expense has no or too little invoice support")),
    "R22": (("受理超期", "Late acceptance"),
            ("投诉举报超过规定天数未受理", "A complaint accepted later than the service rule allows")),
    "R23": (("办结超期", "Overdue closing"),
            ("投诉举报超过规定期限未办结", "A complaint closed, or still open, past its deadline")),
    "R24": (("非残疾人领取残补", "Uncertified disability recipient"),
            ("领取人在发放日期前未持有残疾人证", "The recipient held no disability certificate by the payment date")),
}

# Tables each rule needs (kept in step with pipeline/rules by tests/test_rules.py).
_NEEDS = {
    "R01": ("payments", "deaths"), "R02": ("payments",), "R03": ("payments", "funds", "officials"),
    "R04": ("payments", "funds", "vehicles"), "R05": ("payments", "funds", "real_estate"),
    "R06": ("payments", "funds", "enterprises"), "R07": ("payments", "funds", "village_cadres", "people"),
    "R08": ("payments",), "R09": ("payments", "people"), "R10": ("payments", "funds"),
    "R11": ("allocations", "payments"), "R12": ("allocations", "funds", "payments"),
    "R13": ("projects", "ledger"), "R14": ("projects", "ledger"),
    "R15": ("projects", "enterprises", "village_cadres", "people"),
    "R16": ("ledger",), "R17": ("ledger",), "R18": ("ledger",), "R19": ("invoices", "ledger"),
    "R20": ("ledger", "invoices"), "R22": ("complaints",), "R23": ("complaints",),
    "R24": ("payments", "funds", "disabled_persons"),
}

MESSAGES = {
    "rules.title": ("线索规则", "Clue rules"),
    "rules.not_run": ("未运行", "Not run"),
    "rules.flood": ("线索过多：请检查规则或数据", "Too many clues: check the rule or the data"),
    "rules.no_clues": ("已运行，未发现线索", "Ran, no clues"),
}
for _rid, ((_zn, _en), (_zd, _ed)) in _RULES.items():
    MESSAGES[f"rule.{_rid}.name"] = (_zn, _en)
    MESSAGES[f"rule.{_rid}.desc"] = (_zd, _ed)
    for _t in _NEEDS[_rid]:
        _tz, _te = _TABLES[_t]
        MESSAGES[f"rule.{_rid}.skip.{_t}"] = (f"数据包未提供{_tz}，本规则未运行",
                                               f"Not run: the package has no {_te}")
