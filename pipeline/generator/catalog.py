"""What the synthetic generator draws from: surnames with their frequencies, given-name characters,
the fund catalogue (real fund names, categories, standards), ledger categories and counterparties."""
from __future__ import annotations

from dataclasses import dataclass

# Surnames of Hunan, most frequent first, with approximate shares (per mille) from the 2020 census
# rankings for the province (刘, 李, 陈, 王, 张 lead; 欧阳 is the commonest double surname).
SURNAMES = (
    ("刘", 68), ("李", 62), ("陈", 52), ("王", 44), ("张", 41), ("周", 31), ("彭", 26), ("谢", 24), ("罗", 24),
    ("黄", 23), ("唐", 23), ("邓", 22), ("曾", 21), ("胡", 20), ("杨", 20), ("肖", 18), ("谭", 17), ("廖", 15),
    ("贺", 14), ("蒋", 14), ("欧阳", 12), ("文", 12), ("易", 11), ("龙", 11), ("向", 10), ("伍", 10), ("朱", 10),
    ("吴", 10), ("何", 10), ("赵", 9), ("袁", 9), ("许", 9), ("徐", 8), ("邹", 8), ("段", 8), ("孙", 7), ("郭", 7),
    ("田", 7), ("蔡", 7), ("夏", 7), ("雷", 7), ("戴", 6), ("汤", 6), ("阳", 6), ("颜", 6), ("钟", 6), ("毛", 6),
    ("石", 6), ("宋", 5), ("姚", 5), ("梁", 5), ("郑", 5), ("林", 5), ("马", 5), ("高", 5), ("方", 5), ("尹", 5),
    ("熊", 4), ("秦", 4), ("陶", 4), ("龚", 4), ("凌", 4), ("匡", 4))

MALE_CHARS = ("伟刚勇毅俊峰强军平保东文辉力明永健世广志义兴良海山仁波宁贵福生龙元全国胜学祥才发武新利清飞"
              "彬富顺信子杰涛昌成康星光天达安岩中茂进林有坚和彪博诚先敬震振壮会群豪心邦承乐绍功松善厚庆磊"
              "民友裕河哲江超浩亮政谦亨奇固之翰朗伯宏言若鸣朋斌梁栋维启克伦翔旭鹏泽晨辰士以建家致树炎德行"
              "时泰盛雄琛钧冠策腾楠榕风航弘")
FEMALE_CHARS = ("秀娟英华慧巧美娜静淑惠珠翠雅芝玉萍红娥玲芬芳燕彩春菊兰凤洁梅琳素云莲真环雪荣爱妹霞香月莺媛"
                "艳瑞凡佳嘉琼勤珍贞莉桂娣叶璐娅琦晶妍茜秋珊莎锦黛青倩婷姣婉娴瑾颖露瑶怡婵雁蓓仪荷丹蓉眉君琴"
                "蕊薇菁梦岚苑婕馨韵园艺卿澜纯毓悦昭冰爽茗羽希欣飘滢馥筠柔竹凝晓欢枫芸菲寒伊亚宜可舒影丽阳妮")

PERIODIC, ANNUAL, TERMS, ONCE, PROJECT = "periodic", "annual", "terms", "once", "project"


@dataclass(frozen=True)
class FundTemplate:
    key: str
    name: str
    category: str
    unit: str                  # person / household / project
    level: str                 # issuing level: province / city / county
    mode: str                  # periodic / annual / terms / once / project
    std_annual: float | None = None   # PERIODIC with a standard: yuan a year (divided by the payments a year)
    std: float | None = None          # TERMS/ANNUAL/ONCE with a standard: yuan per payment
    mean: float = 0.0                 # variable amounts: mean yuan per payment (PERIODIC: a year)
    sigma: float = 0.5
    elig: str = "heads"
    rate: float = 0.0
    month: int = 0                    # ANNUAL: the month paid
    terminal: str = "township"        # PROJECT: the level the money is allocated down to
    project_kind: str = ""            # PROJECT: which works (names, units)


T = FundTemplate
# The fund catalogue. Standards follow Hunan's 2023 published figures where a policy fixes one
# (特困 basic living 5,940 a year; 困难残疾人生活补贴 80 and 重度残疾人护理补贴 90 a month;
# 义务教育 boarding-pupil aid 625 a term; 高中国家助学金 1,000 a term; 高龄津贴 100/200 a month).
TEMPLATES = (
    # province (14)
    T("dibao", "农村最低生活保障金", "subsistence_allowance", "household", "province", PERIODIC, mean=8400, sigma=0.35,
      elig="poverty_hh", rate=0.7),
    T("tekun", "特困人员基本生活费", "extreme_poverty_support", "person", "province", PERIODIC, std_annual=5940,
      elig="tekun", rate=0.85),
    T("tekun_care", "特困人员照料护理补贴", "extreme_poverty_support", "person", "province", PERIODIC, std_annual=1200,
      elig="tekun_old", rate=0.6),
    T("gengdi", "耕地地力保护补贴", "farmland_subsidy", "household", "province", ANNUAL, mean=900, sigma=0.5,
      elig="heads", rate=0.85, month=5),
    T("zhongliang", "实际种粮农民一次性补贴", "farmland_subsidy", "household", "province", ANNUAL, mean=160, sigma=0.4,
      elig="heads", rate=0.6, month=7),
    T("canbu", "困难残疾人生活补贴", "disability_subsidy", "person", "province", PERIODIC, std_annual=960,
      elig="disabled_poor", rate=0.9),
    T("hubu", "重度残疾人护理补贴", "disability_subsidy", "person", "province", PERIODIC, std_annual=1080,
      elig="disabled_severe", rate=0.9),
    T("weifang", "农村危房改造补助资金", "housing_renovation", "household", "province", ONCE, mean=28000, sigma=0.3,
      elig="poverty_hh", rate=0.04),
    T("yiliao", "城乡医疗救助资金", "medical_aid", "person", "province", ONCE, mean=3500, sigma=0.9,
      elig="poverty_person", rate=0.12),
    T("yiwu", "义务教育家庭经济困难学生生活补助", "education_aid", "person", "province", TERMS, std=625,
      elig="pupil", rate=0.8),
    T("gaozhong", "普通高中国家助学金", "education_aid", "person", "province", TERMS, std=1000,
      elig="highschool", rate=0.8),
    T("nongji", "农机购置与应用补贴", "other", "household", "province", ONCE, mean=22000, sigma=0.8,
      elig="heads_nonpoor", rate=0.03),
    T("gongyilin", "生态公益林补偿资金", "other", "household", "province", ANNUAL, mean=600, sigma=0.7,
      elig="heads", rate=0.25, month=11),
    T("gonglu", "农村公路建设补助资金", "infrastructure", "project", "province", PROJECT, terminal="township",
      project_kind="road"),
    # city (14)
    T("gaoling80", "高龄津贴（80-89周岁）", "elderly_subsidy", "person", "city", PERIODIC, std_annual=1200,
      elig="age80", rate=0.95),
    T("gaoling90", "高龄津贴（90周岁以上）", "elderly_subsidy", "person", "city", PERIODIC, std_annual=2400,
      elig="age90", rate=0.95),
    T("linshi", "临时救助资金", "other", "person", "city", ONCE, mean=2500, sigma=0.5, elig="poverty_adult", rate=0.05),
    T("yulu", "雨露计划职业教育补助", "education_aid", "person", "city", TERMS, std=1500, elig="student", rate=0.5),
    T("chanye_hu", "产业发展到户奖补资金", "industry_support", "household", "city", ONCE, mean=5000, sigma=0.5,
      elig="poverty_hh", rate=0.5),
    T("guangfu", "光伏扶贫电站收益分配", "industry_support", "household", "city", ANNUAL, mean=1500, sigma=0.3,
      elig="poverty_hh", rate=0.6, month=12),
    T("gongyigang", "公益性岗位补贴", "other", "person", "city", PERIODIC, std_annual=7200, elig="poverty_adult",
      rate=0.08),
    T("hulinyuan", "生态护林员补助", "other", "person", "city", PERIODIC, std_annual=9600, elig="poverty_adult",
      rate=0.04),
    T("banqian", "易地扶贫搬迁后续扶持资金", "other", "household", "city", ONCE, mean=20000, sigma=0.4,
      elig="poverty_hh", rate=0.02),
    T("dahu", "种粮大户补贴", "farmland_subsidy", "household", "city", ANNUAL, mean=30000, sigma=0.6,
      elig="heads_nonpoor", rate=0.02, month=8),
    T("yibao", "困难群众城乡居民医保参保资助", "medical_aid", "person", "city", ANNUAL, std=350,
      elig="poverty_person", rate=0.9, month=1),
    T("yinshui", "农村安全饮水巩固提升工程资金", "drinking_water", "project", "city", PROJECT, terminal="village",
      project_kind="water"),
    T("renju", "农村人居环境整治资金", "other", "project", "city", PROJECT, terminal="township", project_kind="env"),
    T("nongtian", "小型农田水利建设资金", "infrastructure", "project", "city", PROJECT, terminal="township",
      project_kind="irrigation"),
    # county (12)
    T("xianjie", "衔接推进乡村振兴补助资金（产业项目）", "industry_support", "project", "county", PROJECT,
      terminal="township", project_kind="industry"),
    T("yishiyiyi", "村级公益事业一事一议财政奖补资金", "infrastructure", "project", "county", PROJECT,
      terminal="village", project_kind="public"),
    T("yinshui_wh", "农村饮水安全工程维修养护资金", "drinking_water", "project", "county", PROJECT,
      terminal="village", project_kind="water"),
    T("daolu", "农村道路硬化资金", "infrastructure", "project", "county", PROJECT, terminal="township",
      project_kind="road"),
    T("shuihui", "水毁设施修复资金", "infrastructure", "project", "county", PROJECT, terminal="township",
      project_kind="irrigation"),
    T("jiti", "村集体经济发展扶持资金", "industry_support", "project", "county", PROJECT, terminal="township",
      project_kind="industry"),
    T("tiexi", "扶贫小额信贷贴息资金", "industry_support", "household", "county", ONCE, mean=1800, sigma=0.4,
      elig="poverty_hh", rate=0.15),
    T("weiwen", "困难群众春节慰问金", "other", "household", "county", ANNUAL, std=500, elig="poverty_hh", rate=0.6,
      month=1),
    T("wuzhangai", "困难重度残疾人家庭无障碍改造补贴", "disability_subsidy", "person", "county", ONCE, std=3000,
      elig="disabled_severe", rate=0.05),
    T("zizhu", "县级教育资助资金", "education_aid", "person", "county", ANNUAL, std=1000, elig="pupil", rate=0.2,
      month=9),
    T("cesuo", "农村户厕改造奖补资金", "other", "household", "county", ONCE, std=1000, elig="heads", rate=0.05),
    T("yanglao", "困难老年人养老服务补贴", "elderly_subsidy", "person", "county", PERIODIC, std_annual=1200,
      elig="poor_old", rate=0.5),
)

# Province scale only (appended after TEMPLATES, so demo and city are unchanged): the basic pension of
# the rural residents' pension scheme (城乡居民基础养老金), paid monthly through the 一卡通 to residents
# aged 60 and over -- the largest 惠民惠农 payment by count. 113 yuan a month is the standard used here
# (our reading of Hunan's 2023 minimum; not checked against a published table).
PROVINCE_TEMPLATES = (
    T("yanglaojin", "城乡居民基础养老金", "elderly_subsidy", "person", "province", PERIODIC, std_annual=1356,
      elig="age60", rate=0.95),
)

MEANS_TESTED = ("subsistence_allowance", "extreme_poverty_support", "housing_renovation", "education_aid", "medical_aid")

# Project works by kind: (name suffix, unit, quantity range, quantity is whole)
PROJECT_KINDS = {
    "road": (("组级道路硬化工程", "公里", (0.8, 6.0), False), ("通村公路提质改造工程", "公里", (1.0, 8.0), False)),
    "water": (("安全饮水工程", "口", (3, 20), True), ("供水管网延伸工程", "户", (30, 260), True)),
    "env": (("人居环境整治项目", "处", (4, 30), True), ("垃圾收集点建设项目", "个", (3, 15), True)),
    "irrigation": (("山塘清淤扩容工程", "口", (2, 12), True), ("灌溉渠道硬化工程", "公里", (0.5, 5.0), False)),
    "industry": (("油茶基地建设项目", "亩", (50, 600), True), ("蔬菜大棚建设项目", "个", (5, 40), True)),
    "public": (("村部文化广场建设项目", "处", (1, 3), True), ("路灯安装项目", "盏", (20, 150), True)),
}

# Village ledger categories: (name, share of entries, mean yuan, sigma)
INCOME_CATEGORIES = (("上级补助收入", 0.40, 90000, 1.0), ("集体经营收入", 0.18, 40000, 1.0),
                     ("发包及上交收入", 0.17, 25000, 0.9), ("投资收益", 0.07, 30000, 0.9),
                     ("一事一议筹资筹劳收入", 0.06, 15000, 0.8), ("其他收入", 0.12, 8000, 1.0))
EXPENSE_CATEGORIES = (("干部报酬", 0.20, 2800, 0.25), ("管理费支出", 0.12, 6000, 1.0), ("办公费", 0.16, 1500, 0.8),
                      ("招待费", 0.07, 900, 0.6), ("报刊费", 0.03, 600, 0.4), ("水电费", 0.08, 1200, 0.7),
                      ("公益事业支出", 0.16, 40000, 1.1), ("其他支出", 0.18, 12000, 1.1))
SHOP_WORDS = ("文具店", "超市", "农家乐", "五金店", "印务部", "电器商行", "建材店", "饭店", "广告部", "百货商店")
COMPANY_WORDS = ("建筑工程有限公司", "建设有限公司", "水利水电工程有限公司", "市政工程有限公司", "路桥工程有限公司",
                 "园林绿化工程有限公司", "农业开发有限公司", "劳务有限公司")
FIRM_WORDS = ("鑫", "华", "兴", "盛", "宏", "安", "永", "恒", "顺", "达", "丰", "泰", "瑞", "金", "明", "正", "利", "诚")
INDUSTRIES = ("建筑业", "批发和零售业", "农、林、牧、渔业", "住宿和餐饮业", "制造业", "交通运输业", "居民服务业")
EMPLOYERS = ("人民政府", "中心学校", "卫生院", "财政所", "农业综合服务中心", "派出所", "国土资源所")
POSITIONS = ("科员", "教师", "医生", "办事员", "副站长", "会计", "护士", "站长")
CADRE_ROLES = ("党支部书记", "村委会主任", "村会计", "村委会委员", "村务监督委员会主任")
COMPLAINT_SUMMARIES = {
    "livelihood_funds": ("反映低保评定不公，有关系户享受低保", "反映危房改造补助未足额发放", "反映高龄津贴被截留",
                         "反映耕地地力保护补贴面积不实"),
    "poverty_alleviation": ("反映产业奖补资金分配不公", "反映建档立卡识别不准", "反映扶贫项目质量问题"),
    "village_finance": ("反映村财务不公开", "反映村干部虚报招待费", "反映集体土地发包收入去向不明"),
    "work_style": ("反映村干部作风粗暴", "反映办事推诿拖拉", "反映干部违规操办酒席"),
    "other": ("反映邻里纠纷处理不当", "咨询政策", "反映环境污染问题"),
}
