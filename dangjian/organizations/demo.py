"""Demo data: a district (or a whole city) of Party organizations with realistic names.

Everything is drawn from one ``random.Random(seed)`` and a fixed "today", so a seed always gives
the same data. The tree is built in memory and written with ``bulk_create``: the materialized
paths, depths and child counts of treebeard's ``MP_Node`` are assigned here, never through
``add_child`` one node at a time, so that a city of ten thousand organizations loads in seconds.

Seeding is a bulk load: it writes no audit events.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, timedelta
from decimal import Decimal

from django.contrib.auth.hashers import make_password
from django.db import transaction

from dangjian.accounts.models import RoleGrant, User
from dangjian.accounts.roles import Role
from dangjian.rules.registry import RuleBook

from .models import (
    BRANCH_TYPES,
    POST_RANK,
    SIX_HAVES,
    CommitteeMember,
    CommitteePost,
    Coverage,
    NewOrganization,
    NewOrgCategory,
    Organization,
    OrgType,
    RegionalLink,
    Sector,
    SmallBusinessType,
    VillageIncome,
)
from .querysets import path_range_q
from .rules import ELECTED_TYPES, SECRETARY_REQUIRED_TYPES, default_term_years
from .services import add_months, apply_term

DEFAULT_SEED = 2026
DEMO_PASSWORD = "Dangjian@2026"
BATCH_SIZE = 500

# --------------------------------------------------------------------------------------------
# Name lists
# --------------------------------------------------------------------------------------------

# The common surnames, most frequent first (drawn with falling weights).
SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程"
    "苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝"
    "龚邵万钱严覃武戴莫孔向汤"
)
GIVEN_MALE = (
    "伟强磊军勇杰涛斌超明刚平辉鹏华飞鑫波宁浩凯健俊帆旭宇晨建国"
    "志文海东林峰成永新春忠庆德荣兵亮振江洪宏毅博"
)
GIVEN_FEMALE = "芳娜敏静丽艳娟霞秀玲桂英慧燕萍红梅琳雪倩婷颖洁丹玉兰凤莉晶欣月佳悦雯蕾琴薇"

CITY = "临江市"
CITY_SHORT = "临江"
DEMO_DISTRICT = "青山区"
DISTRICTS = tuple(
    "青山区 江城区 东湖区 西陵区 南岸区 北塘区 新港区 白沙区 龙湾区 桃源区 金水区 凤鸣区 云溪区 "
    "柳营区".split()
)

STREET_STEMS = tuple(
    "东风 解放 人民路 和平 朝阳 建设 新华 胜利 红旗 长江路 滨江 花园 文化 中山 光明 幸福 城关 "
    "府前 梅园 桂花 五里墩 黄金口 龙王庙 水塔 青年路 车站 湖滨 南湖 北湖 东亭 西关 南门 北门 钟楼 "
    "鼓楼 白塔 紫阳 书院 学府 铁路 航空路 公园路 沿河 荷花池 杨家湾 万松 石牌岭 关山 积玉桥 首义 "
    "粮道 中华路 大成路 七里庙 三眼桥 二七 天河 江汉 汉阳门 新河 汉兴 常青 唐家墩 宝丰 荣华 民族 "
    "新风 复兴 振兴 育英 博学 桃园 柳荫 东城 西城 南城 北城 金港 海关 码头 古楼 青石 月湖 琴台 "
    "晴川 白云 丹水 凤栖 望江 临湖 观山 翠屏 樱花 紫薇 枫叶 石门 清源 洪山 狮子山 梨园 莲花 "
    "塔子湖 后湖 四新 江堤 鹦鹉 五里界 三里坡 高车 余家头 冶金 厂前 钢都 红钢城 新沟桥".split()
)
COMMUNITY_STEMS = tuple(
    "幸福 和平 光明 长青 金桥 翠湖 桃源 锦绣 阳光 丽景 枫林 碧水 东湖 南湖 西园 北苑 文昌 育才 "
    "兴华 建华 安居 康乐 泰和 瑞祥 富民 双拥 红星 向阳 东升 朝阳 五一 八一 胜利 民主 团结 友谊 "
    "春晖 秀水 青松 梧桐 银杏 紫荆 玉兰 海棠 桂园 芙蓉 水岸 江南 观澜 御景 鸿福 华苑 星光 明珠 "
    "百花 丹桂 松涛 静安 永安 新城 金色 滨湖 清风 明月 长虹 彩虹 宏图 锦江 凤凰 麒麟 龙腾 盛世 "
    "万福 吉祥 如意 安康 福寿 金秋 晨曦 绿洲 翡翠 水晶 珍珠 丽水 怡和 嘉禾 映月 听涛 半岛 书香 "
    "杏林 竹林 荷塘 柳岸 新港 工人 铁路 电力 纺织 钢花".split()
)
COMMUNITY_SUFFIXES = ("里", "苑", "园", "新村", "花园", "家园", "路", "坊", "湾", "")
COURTYARDS = tuple(
    "电力宿舍 粮食局宿舍 教师公寓 机械厂家属 纺织厂家属 铁路新村 商业局宿舍 供销社宿舍 卫生局宿舍 "
    "老干部 邮电宿舍 水厂家属".split()
)
TOWN_STEMS = tuple(
    "石桥 白沙 龙泉 清水 双河 柳林 马坊 黄土岗 青龙 凤凰 梅林 高桥 新安 长岭 三合 永兴 太平 安乐 "
    "大兴 金山 银湖 松林 竹园 花桥 桃花 河口 仙桥 古城 东坝 杨柳 双凤 峰口 新堤 汪集 李集 "
    "蔡甸 索河 侏儒 永安 邾城 仓埠 涨渡湖 旧街 道观河 姚集 木兰".split()
)
VILLAGE_FAMILY_SUFFIXES = ("家村", "家湾", "家庄", "家寨", "家营", "家岭", "家沟", "家坝", "家坪")
VILLAGE_DIRECTIONS = "东西南北前后上下大小"
VILLAGE_FEATURES = "河岭沟坡塘湾山桥庄洼"
VILLAGE_GOOD_WORDS = tuple(
    "红星 前进 团结 新华 光明 胜利 五星 和平 丰收 永安 长兴 兴隆 富强 幸福 红旗 新民".split()
)
VILLAGE_BRANCHES = tuple(
    "第一党支部 第二党支部 第三党支部 老年党支部 流动党员党支部 专业合作社党支部 产业党支部".split()
)
ROADS = tuple(
    "解放大道 人民路 中山路 建设大道 长江路 和平大道 友谊路 文化路 青年路 新华路 胜利街 民主路 "
    "光明路 复兴路 学府路 工业大道 科技路 创业路 滨江大道 沿河路".split()
)

# Government organs, as "{district or city}{stem}" ("青山区委办公室", "临江市教育局").
ORGANS = tuple(
    "委办公室 政府办公室 纪委监委机关 委组织部 委宣传部 委统战部 委政法委员会 人大常委会机关 "
    "政协机关 发展和改革局 教育局 科学技术局 工业和信息化局 民政局 司法局 财政局 "
    "人力资源和社会保障局 住房和城乡建设局 交通运输局 水务局 农业农村局 商务局 文化和旅游局 "
    "卫生健康局 退役军人事务局 应急管理局 审计局 市场监督管理局 统计局 医疗保障局 城市管理执法局 "
    "信访局 政务服务和大数据管理局 人民法院 人民检察院 总工会 妇女联合会 残疾人联合会".split()
)
ORGAN_BRANCHES = tuple(
    "机关第一党支部 机关第二党支部 机关第三党支部 办公室党支部 综合执法大队党支部 业务科室党支部 "
    "离退休干部党支部".split()
)
# Public institutions (事业单位): stem, organization type, branches when it has some.
INSTITUTIONS = (
    (
        "人民医院",
        OrgType.COMMITTEE,
        ("内科党支部", "外科党支部", "医技党支部", "护理党支部", "行政后勤党支部", "离退休党支部"),
    ),
    ("中医医院", OrgType.GENERAL_BRANCH, ("临床党支部", "医技药剂党支部", "行政党支部")),
    (
        "第一中学",
        OrgType.GENERAL_BRANCH,
        ("高一年级党支部", "高二年级党支部", "高三年级党支部", "行政后勤党支部"),
    ),
    ("妇幼保健院", OrgType.BRANCH, ()),
    ("疾病预防控制中心", OrgType.BRANCH, ()),
    ("实验小学", OrgType.BRANCH, ()),
    ("职业教育中心", OrgType.BRANCH, ()),
    ("图书馆", OrgType.BRANCH, ()),
    ("融媒体中心", OrgType.BRANCH, ()),
    ("社会福利院", OrgType.BRANCH, ()),
    ("公共资源交易中心", OrgType.BRANCH, ()),
    ("不动产登记中心", OrgType.BRANCH, ()),
)
SOE_GROUPS = (
    ("城市建设投资集团有限公司", "城投"),
    ("国有资本投资运营集团有限公司", "国投"),
    ("水务集团有限公司", "水务"),
    ("交通投资集团有限公司", "交投"),
    ("文化旅游发展集团有限公司", "文旅"),
    ("产业投资集团有限公司", "产投"),
    ("农业发展集团有限公司", "农发"),
    ("公共交通集团有限公司", "公交"),
    ("城市发展集团有限公司", "城发"),
    ("商业集团有限公司", "商业"),
)
SOE_SUBSIDIARIES = tuple(
    "置业有限公司 建设工程有限公司 物业服务有限公司 供水有限公司 污水处理有限公司 "
    "商业运营管理有限公司 融资担保有限公司 资产管理有限公司 园林绿化工程有限公司 "
    "智慧城市科技有限公司 旅游开发有限公司 酒店管理有限公司 客运有限公司 市政工程有限公司 "
    "环境卫生服务有限公司 农产品物流有限公司".split()
)
COMPANY_DEPARTMENTS = tuple(
    "综合管理部 财务审计部 工程管理部 市场营销部 第一项目部 第二项目部 运营中心 生产运行部 "
    "客户服务中心 退休职工".split()
)
BRAND_WORDS = tuple(
    "华信 恒通 鼎盛 瑞丰 宏达 金鹏 中科 汇智 博远 天成 嘉和 永泰 隆源 昌盛 新锐 卓越 正大 海纳 "
    "同创 联创 佳禾 华美 诚信 明德 睿思 星辰 云图 极光 数联 智造 长风 福源 旭日 恒瑞 "
    "润泽 益民".split()
)
INDUSTRIES = tuple(
    "科技 电子 信息技术 软件 机械制造 新材料 生物医药 食品 物流 建筑工程 装饰工程 商贸 餐饮管理 "
    "物业服务 环保科技 电子商务 网络科技 医疗器械 汽车销售服务 人力资源服务 文化传媒 农业科技 "
    "纺织 印刷 家居".split()
)
ENTERPRISE_DEPARTMENTS = ("研发中心", "生产部", "营销中心", "行政人事部", "质量管理部")
# Social organizations, as "{district}{stem}".
SOCIAL_STEMS = tuple(
    "个体劳动者协会 私营企业协会 餐饮行业协会 物流商会 温州商会 福建商会 慈善总会 "
    "乐龄养老服务中心 阳光社会工作服务中心 心连心志愿服务协会 青少年发展促进会 建筑业协会 "
    "电子商务协会 家政服务行业协会 社区教育促进会 书法家协会 摄影家协会 老年人体育协会 "
    "残疾人康复服务中心 心理咨询师协会".split()
)
SOCIAL_FIRMS = ("律师事务所", "会计师事务所", "幼儿园", "职业培训学校", "社会工作服务社")
JOINT_CLUSTERS = (
    "商务楼宇",
    "科技产业园",
    "电商产业园",
    "商圈",
    "物流园",
    "律师行业",
    "文化创意园",
    "个体工商户",
    "家政服务行业",
    "快递物流行业",
)
PROJECTS = (
    "地铁{n}号线{district}段建设项目",
    "{street}片区旧城改造项目",
    "{district}人民医院新院区建设项目",
    "{city}国际会展中心{district}配套工程",
    "{district}滨江大堤综合整治工程",
    "{street}城市更新示范片区项目",
    "{district}全民健身中心建设项目",
)
SHOPS = tuple(
    "面馆 小吃店 五金店 便利店 理发店 水果店 超市 烟酒店 修车行 服装店 药店 茶馆 打印店 "
    "家电维修部 早餐店 花店 粮油店 干洗店 快递驿站 汽车美容店".split()
)
MARKETS = tuple(
    "农贸市场 建材市场 小商品市场 花鸟市场 汽配城 家具城 二手车交易市场 水产批发市场 服装批发市场 "
    "电子产品市场".split()
)
STUDIOS = ("工作室", "经营部", "有限公司", "服务部")
# Units stationed in an area but outside this tree (驻区单位).
OUTSIDE_UNITS = (
    "国网{city_short}供电公司{street}供电所",
    "中国工商银行{city_short}{street}支行",
    "中国建设银行{city_short}{street}支行",
    "中国农业银行{city_short}{street}支行",
    "中国邮政{city_short}{street}邮政支局",
    "{city}第{cn}人民医院",
    "{city}第{cn}中学",
    "{city_short}职业技术学院",
    "中国移动{city_short}分公司{street}营业厅",
    "{city}消防救援支队{street}消防救援站",
    "国家税务总局{city}{district}税务局第{cn}税务所",
    "中国电信{city_short}分公司{street}营业部",
)
EXTENSION_REASONS = ("单位机构改革", "班子成员集中调整", "上级统一部署换届时间", "单位合并重组")
DISSOLUTION_REASON = "项目竣工验收，临时党支部完成使命，经上级党组织批准撤销。"

SIX_HAVE_FIELDS = [name for name, _label in SIX_HAVES]
# Gaps in "六有" show up most often in books, signs and the venue itself.
SIX_HAVE_GAP_WEIGHTS = (3, 2, 3, 1, 4, 2)

CREDIT_CHARS = "0123456789ABCDEFGHJKLMNPQRTUWXY"
CREDIT_WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
ORG_CODE_WEIGHTS = (3, 7, 9, 10, 5, 8, 4, 2)

_CN_DIGITS = "零一二三四五六七八九"


def cn_number(n: int) -> str:
    """1 → 一, 12 → 十二, 35 → 三十五 (for 1 ≤ n ≤ 99)."""
    if n < 10:
        return _CN_DIGITS[n]
    tens, ones = divmod(n, 10)
    head = "十" if tens == 1 else _CN_DIGITS[tens] + "十"
    return head + (_CN_DIGITS[ones] if ones else "")


# --------------------------------------------------------------------------------------------
# Sizes
# --------------------------------------------------------------------------------------------

Range = tuple[int, int]


@dataclass(frozen=True)
class DistrictSize:
    streets: Range
    communities: Range  # per street
    grids: Range  # per community 大党委
    groups: Range  # per grid
    branch_community_share: float  # communities with a single 社区党支部
    towns: Range
    villages: Range  # per town
    village_committee_share: float  # villages with a 村党委 rather than a 村党支部
    organs: Range
    institutions: Range
    soe_groups: Range
    companies: Range  # per SOE group
    enterprises: Range  # non-public enterprises with their own organization
    social: Range
    joint: Range
    temporary: Range
    register: int  # entries in the new-organization register


@dataclass(frozen=True)
class Scale:
    name: str
    district: DistrictSize
    districts: int = 0  # 0: the district is the root; otherwise a city of this many
    city_organs: Range = (0, 0)
    city_institutions: Range = (0, 0)
    city_soe_groups: Range = (0, 0)
    city_companies: Range = (0, 0)


SCALES: dict[str, Scale] = {
    "tiny": Scale(
        "tiny",
        DistrictSize(
            streets=(1, 1),
            communities=(2, 2),
            grids=(2, 2),
            groups=(1, 1),
            branch_community_share=0.5,
            towns=(1, 1),
            villages=(2, 2),
            village_committee_share=0.5,
            organs=(2, 2),
            institutions=(1, 1),
            soe_groups=(1, 1),
            companies=(1, 1),
            enterprises=(2, 2),
            social=(1, 1),
            joint=(1, 1),
            temporary=(1, 1),
            register=12,
        ),
    ),
    "demo": Scale(
        "demo",
        DistrictSize(
            streets=(4, 5),
            communities=(4, 6),
            grids=(2, 5),
            groups=(0, 2),
            branch_community_share=0.2,
            towns=(2, 2),
            villages=(5, 7),
            village_committee_share=0.35,
            organs=(12, 16),
            institutions=(4, 6),
            soe_groups=(3, 3),
            companies=(2, 3),
            enterprises=(10, 14),
            social=(4, 6),
            joint=(3, 4),
            temporary=(1, 1),
            register=60,
        ),
    ),
    "city": Scale(
        "city",
        DistrictSize(
            streets=(6, 11),
            communities=(5, 9),
            grids=(3, 5),
            groups=(0, 2),
            branch_community_share=0.15,
            towns=(0, 4),
            villages=(6, 12),
            village_committee_share=0.35,
            organs=(24, 32),
            institutions=(6, 10),
            soe_groups=(2, 4),
            companies=(2, 4),
            enterprises=(18, 30),
            social=(8, 12),
            joint=(4, 7),
            temporary=(1, 2),
            register=230,
        ),
        districts=12,
        city_organs=(30, 38),
        city_institutions=(8, 12),
        city_soe_groups=(6, 8),
        city_companies=(3, 6),
    ),
}


# --------------------------------------------------------------------------------------------
# The in-memory model
# --------------------------------------------------------------------------------------------


@dataclass(eq=False)
class Seat:
    post: str
    name: str
    full_time: bool = False
    from_unit: str = ""
    started_on: date | None = None
    ended_on: date | None = None


@dataclass(eq=False)
class Node:
    name: str
    org_type: str
    sector: str
    kind: str
    unit_name: str = ""
    address: str = ""
    founded_on: date | None = None
    parent: Node | None = field(default=None, repr=False)
    children: list[Node] = field(default_factory=list, repr=False)
    seats: list[Seat] = field(default_factory=list, repr=False)
    term_started_on: date | None = None
    term_adjust_months: int = 0
    term_adjust_reason: str = ""
    premises_area: Decimal | None = None
    six_haves: tuple[bool, ...] = (True,) * 6
    dissolved_on: date | None = None
    dissolution_reason: str = ""
    reserved: bool = False  # kept free of deliberate gaps (the demo users' branch)
    is_hub: bool = False  # a 社区大党委 / 街道大工委 in the regional structure
    path: str = ""
    depth: int = 0
    pk: int | None = None


@dataclass(eq=False)
class Link:
    hub: Node
    unit: Node | None
    unit_name: str
    leader_name: str
    part_time_member: bool
    joined_on: date
    left_on: date | None = None


@dataclass(eq=False)
class RegisterEntry:
    name: str
    category: str
    area: Node
    small_business_type: str = ""
    coverage: str = Coverage.UNCOVERED
    party_organization: Node | None = None
    member_count: int = 0
    employee_count: int = 0
    instructor_name: str = ""
    credit_code: str = ""
    registered_on: date | None = None
    checks: tuple[bool, bool, bool] = (False, False, False)


@dataclass
class District:
    """What one district's builder remembers for the links and the register."""

    name: str
    short: str
    area_code: str
    top: Node
    streets: list[Node] = field(default_factory=list)
    street_stems: dict[int, str] = field(default_factory=dict)  # id(street node) → stem
    communities: list[Node] = field(default_factory=list)
    towns: list[Node] = field(default_factory=list)
    link_units: list[Node] = field(default_factory=list)  # organs, institutions, SOE companies
    police: dict[int, Node] = field(default_factory=dict)  # id(street node) → 派出所党支部
    standalone: list[tuple[Node, str, str]] = field(default_factory=list)  # (org, unit, category)
    joint: list[Node] = field(default_factory=list)


@dataclass
class SeedSummary:
    scale: str
    seed: int
    today: date
    root: str
    organizations: int
    committee_members: int
    village_incomes: int
    regional_links: int
    new_organizations: int
    users_branch: str
    users: int


# --------------------------------------------------------------------------------------------
# The generator
# --------------------------------------------------------------------------------------------


class DemoGenerator:
    """Builds a deterministic demo data set in memory, then writes it in one transaction."""

    def __init__(self, seed: int = DEFAULT_SEED, scale: str = "demo", today: date | None = None):
        if scale not in SCALES:
            raise ValueError(f"unknown scale {scale!r}; choose from {', '.join(SCALES)}")
        self.seed = seed
        self.scale = SCALES[scale]
        self.today = today or date.today()
        self.rng = random.Random(seed)
        self.rules = RuleBook()
        self.root: Node | None = None
        self.nodes: list[Node] = []
        self.districts: list[District] = []
        self.links: list[Link] = []
        self.register: list[RegisterEntry] = []
        self.incomes: list[tuple[Node, int, Decimal]] = []
        self.users_branch: Node | None = None
        self.places_used: set[str] = set()  # street and town names taken
        self.names_used: set[str] = set()  # community, village and unit names taken
        weights = [1 / (i + 6) for i in range(len(SURNAMES))]
        self._surname_cum = [sum(weights[: i + 1]) for i in range(len(weights))]

    # -- small helpers -------------------------------------------------------------------

    def chance(self, p: float) -> bool:
        return self.rng.random() < p

    def between(self, start: date, end: date) -> date:
        if end <= start:
            return start
        return start + timedelta(days=self.rng.randint(0, (end - start).days))

    def years_ago(self, years: float) -> date:
        return self.today - timedelta(days=round(years * 365.25))

    def person(self, female_share: float = 0.4) -> str:
        surname = self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]
        pool = GIVEN_FEMALE if self.chance(female_share) else GIVEN_MALE
        if self.chance(0.3):
            return surname + self.rng.choice(pool)
        first, second = self.rng.sample(pool, 2)
        return surname + first + second

    def address(self, district: District, place: str = "") -> str:
        road = self.rng.choice(ROADS)
        return f"{CITY}{district.name}{place}{road}{self.rng.randint(1, 399)}号"

    def unique(self, make) -> str:
        """A name from ``make()`` not used before in this data set."""
        for _attempt in range(50):
            name = make()
            if name not in self.names_used:
                self.names_used.add(name)
                return name
        base = make()
        n = 2
        while f"{base}{cn_number(n)}" in self.names_used:
            n += 1
        self.names_used.add(f"{base}{cn_number(n)}")
        return f"{base}{cn_number(n)}"

    def span(self, r: Range) -> int:
        return self.rng.randint(*r)

    def add(
        self,
        parent: Node | None,
        name: str,
        org_type: str,
        sector: str,
        kind: str,
        founded: tuple[int, int] | None = None,
        **fields,
    ) -> Node:
        """A new node under ``parent``, founded in the year range ``founded`` (or after it)."""
        if founded is not None:
            start = date(founded[0], 1, 1)
            end = min(date(founded[1], 12, 31), self.today - timedelta(days=400))
        else:
            start = parent.founded_on + timedelta(days=30) if parent else date(1980, 1, 1)
            end = self.today - timedelta(days=400)
        if parent is not None and parent.founded_on and start < parent.founded_on:
            start = parent.founded_on
        node = Node(
            name=name,
            org_type=org_type,
            sector=sector,
            kind=kind,
            founded_on=self.between(start, end),
            parent=parent,
            **fields,
        )
        if parent is not None:
            parent.children.append(node)
        return node

    def quota(self, items: list, share: float, minimum: int = 1) -> list:
        """A random ``share`` of ``items`` (at least ``minimum`` when there are any)."""
        if not items:
            return []
        count = min(len(items), max(minimum, round(share * len(items))))
        return self.rng.sample(items, count)

    # -- the tree ------------------------------------------------------------------------

    def build_tree(self) -> Node:
        size = self.scale.district
        if not self.scale.districts:
            root = self.district(None, DEMO_DISTRICT, size, 0)
        else:
            root = Node(
                name=f"中共{CITY}委员会",
                org_type=OrgType.COMMITTEE,
                sector=Sector.GOVERNMENT_ORGAN,
                kind="city",
                unit_name=f"中共{CITY}委员会",
                address=f"{CITY}人民路1号",
                founded_on=date(1949, 10, 1),
            )
            names = self.rng.sample(DISTRICTS, self.scale.districts)
            for index, name in enumerate(names):
                self.district(root, name, size, index)
            city = District(CITY, CITY_SHORT, "369800", root)
            self.organs(
                city,
                root,
                f"{CITY}直机关工委",
                self.scale.city_organs,
                self.scale.city_institutions,
                police=False,
            )
            self.state_owned(
                city,
                root,
                f"{CITY}国资委党委",
                self.scale.city_soe_groups,
                self.scale.city_companies,
            )
        self.root = root
        return root

    def district(self, parent: Node | None, name: str, size: DistrictSize, index: int) -> Node:
        top = self.add(
            parent,
            f"中共{name}委员会",
            OrgType.COMMITTEE,
            Sector.GOVERNMENT_ORGAN,
            "district",
            founded=(1950, 1985),
            unit_name=f"中共{name}委员会",
        )
        d = District(
            name=name,
            short=name[:-1],
            area_code=f"3698{index + 1:02d}",
            top=top,
        )
        top.address = self.address(d)
        self.districts.append(d)

        # Street and town names are unique in the whole city.
        streets = [s for s in STREET_STEMS if s not in self.places_used]
        for number, stem in enumerate(self.rng.sample(streets, self.span(size.streets))):
            self.places_used.add(stem)
            self.street(d, top, stem, size, first=number == 0 and not self.users_branch)
        towns = [s for s in TOWN_STEMS if s not in self.places_used]
        for stem in self.rng.sample(towns, self.span(size.towns)):
            self.places_used.add(stem)
            self.town(d, top, stem, size)
        self.organs(d, top, f"{name}直机关工委", size.organs, size.institutions, police=True)
        self.state_owned(d, top, f"{name}国资委党委", size.soe_groups, size.companies)
        self.new_economy(d, top, size)
        return top

    def street(self, d: District, top: Node, stem: str, size: DistrictSize, first: bool):
        street_name = f"{stem}街道"
        street = self.add(
            top,
            f"{street_name}党工委",
            OrgType.WORKING_COMMITTEE,
            Sector.GOVERNMENT_ORGAN,
            "street",
            founded=(1955, 2005),
            unit_name=f"{d.name}{street_name}办事处",
            is_hub=True,
        )
        street.address = self.address(d, street_name)
        d.streets.append(street)
        d.street_stems[id(street)] = stem
        self.add(
            street,
            f"{street_name}机关党支部",
            OrgType.BRANCH,
            Sector.GOVERNMENT_ORGAN,
            "street_organ",
            unit_name=street.unit_name,
        )
        for number in range(self.span(size.communities)):
            forced = first and number == 0
            as_branch = not forced and self.chance(size.branch_community_share)
            self.community(d, street, street_name, size, as_branch, forced)

    def community(
        self,
        d: District,
        street: Node,
        street_name: str,
        size: DistrictSize,
        as_branch: bool,
        forced: bool,
    ):
        cname = self.unique(
            lambda: self.rng.choice(COMMUNITY_STEMS) + self.rng.choice(COMMUNITY_SUFFIXES) + "社区",
        )
        unit = f"{street_name}{cname}"
        common = {"unit_name": unit, "address": self.address(d, street_name)}
        if as_branch:
            node = self.add(
                street,
                f"{cname}党支部",
                OrgType.BRANCH,
                Sector.COMMUNITY,
                "community",
                founded=(1995, 2016),
                **common,
            )
            for g in range(1, self.rng.randint(1, 3) + 1):
                self.add(
                    node,
                    f"{cname}第{cn_number(g)}党小组",
                    OrgType.GROUP,
                    Sector.COMMUNITY,
                    "group",
                    unit_name=unit,
                )
            d.communities.append(node)
            return
        hub = forced or self.chance(0.8)
        node = self.add(
            street,
            f"{cname}{'大党委' if hub else '党委'}",
            OrgType.COMMITTEE,
            Sector.COMMUNITY,
            "community",
            founded=(1995, 2016),
            is_hub=hub,
            **common,
        )
        d.communities.append(node)
        grids = max(2, self.span(size.grids)) if forced else self.span(size.grids)
        for g in range(1, grids + 1):
            grid = self.add(
                node,
                f"{cname}第{cn_number(g)}网格党支部",
                OrgType.BRANCH,
                Sector.COMMUNITY,
                "grid",
                unit_name=unit,
            )
            if forced and g == 1:
                node.reserved = grid.reserved = True
                self.users_branch = grid
            groups = max(2, self.span(size.groups)) if grid.reserved else self.span(size.groups)
            buildings = sorted(self.rng.sample(range(1, 40), groups))
            courts = set()
            for building in buildings:
                court = f"{self.rng.choice(COURTYARDS)}院落"
                if court in courts or self.chance(0.75):
                    court = f"{building}号楼"
                courts.add(court)
                self.add(
                    grid,
                    f"{cname}第{cn_number(g)}网格{court}党小组",
                    OrgType.GROUP,
                    Sector.COMMUNITY,
                    "group",
                    unit_name=unit,
                )

    def village_name(self) -> str:
        def make():
            pattern = self.rng.random()
            if pattern < 0.5:
                family = self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]
                return family + self.rng.choice(VILLAGE_FAMILY_SUFFIXES)
            if pattern < 0.8:
                return (
                    self.rng.choice(VILLAGE_DIRECTIONS) + self.rng.choice(VILLAGE_FEATURES) + "村"
                )
            return self.rng.choice(VILLAGE_GOOD_WORDS) + "村"

        name = self.unique(make)
        return name if name.endswith("村") else name + "村"

    def town(self, d: District, top: Node, stem: str, size: DistrictSize):
        town_name = f"{stem}镇"
        town = self.add(
            top,
            f"{town_name}党委",
            OrgType.COMMITTEE,
            Sector.GOVERNMENT_ORGAN,
            "town",
            founded=(1950, 1990),
            unit_name=f"{d.name}{town_name}人民政府",
        )
        town.address = self.address(d, town_name)
        d.towns.append(town)
        self.add(
            town,
            f"{town_name}机关党支部",
            OrgType.BRANCH,
            Sector.GOVERNMENT_ORGAN,
            "town_organ",
            unit_name=town.unit_name,
        )
        for stem2 in ("卫生院", "中心学校"):
            if self.chance(0.6):
                self.add(
                    town,
                    f"{town_name}{stem2}党支部",
                    OrgType.BRANCH,
                    Sector.PUBLIC_INSTITUTION,
                    "institution",
                    unit_name=f"{d.name}{town_name}{stem2}",
                )
        for _ in range(self.span(size.villages)):
            village = self.village_name()
            unit = f"{town_name}{village}"
            common = {"unit_name": unit, "address": f"{CITY}{d.name}{town_name}{village}"}
            if self.chance(size.village_committee_share):
                node = self.add(
                    town,
                    f"{village}党委",
                    OrgType.COMMITTEE,
                    Sector.VILLAGE,
                    "village",
                    founded=(1950, 1985),
                    **common,
                )
                branches = self.rng.sample(VILLAGE_BRANCHES, self.rng.randint(3, 5))
                for label in sorted(branches, key=VILLAGE_BRANCHES.index):
                    branch = self.add(
                        node,
                        f"{village}{label}",
                        OrgType.BRANCH,
                        Sector.VILLAGE,
                        "village_branch",
                        unit_name=unit,
                    )
                    for g in range(1, self.rng.randint(0, 2) + 1):
                        self.add(
                            branch,
                            f"{village}{label}第{cn_number(g)}党小组",
                            OrgType.GROUP,
                            Sector.VILLAGE,
                            "group",
                            unit_name=unit,
                        )
            else:
                node = self.add(
                    town,
                    f"{village}党支部",
                    OrgType.BRANCH,
                    Sector.VILLAGE,
                    "village",
                    founded=(1950, 1985),
                    **common,
                )
                for g in range(1, self.rng.randint(1, 3) + 1):
                    self.add(
                        node,
                        f"{village}第{cn_number(g)}村民小组党小组",
                        OrgType.GROUP,
                        Sector.VILLAGE,
                        "group",
                        unit_name=unit,
                    )

    def organs(
        self,
        d: District,
        top: Node,
        name: str,
        organs: Range,
        institutions: Range,
        police: bool,
    ):
        """The 机关工委 with government organs, the police and public institutions."""
        gov = Sector.GOVERNMENT_ORGAN
        committee = self.add(
            top, name, OrgType.WORKING_COMMITTEE, gov, "organ_wc", founded=(1955, 1995)
        )
        committee.unit_name = f"中共{d.name}直属机关工作委员会"
        picked = self.rng.sample(range(len(ORGANS)), min(len(ORGANS), self.span(organs)))
        for i in sorted(picked):
            stem = ORGANS[i]
            unit = f"{d.name}{stem}"
            common = {"unit_name": unit, "address": self.address(d)}
            form = self.rng.random()
            if form < 0.35:
                org_type, suffix, branches = OrgType.COMMITTEE, "机关党委", (3, 5)
            elif form < 0.65:
                org_type, suffix, branches = OrgType.GENERAL_BRANCH, "机关党总支", (2, 4)
            else:
                org_type, suffix, branches = OrgType.BRANCH, "机关党支部", None
            node = self.add(
                committee, f"{unit}{suffix}", org_type, gov, "organ", founded=(1955, 2010), **common
            )
            if branches:
                labels = self.rng.sample(ORGAN_BRANCHES, self.span(branches))
                for label in sorted(labels, key=ORGAN_BRANCHES.index):
                    self.add(
                        node, f"{unit}{label}", OrgType.BRANCH, gov, "organ_branch", unit_name=unit
                    )
            else:
                for g in range(1, self.rng.randint(0, 2) + 1):
                    self.add(
                        node,
                        f"{unit}机关第{cn_number(g)}党小组",
                        OrgType.GROUP,
                        gov,
                        "group",
                        unit_name=unit,
                    )
            d.link_units.append(node)
        if police:
            unit = f"{d.name}公安分局"
            node = self.add(
                committee,
                f"{unit}党委",
                OrgType.COMMITTEE,
                gov,
                "organ",
                founded=(1955, 1990),
                unit_name=unit,
                address=self.address(d),
            )
            for branch_label in (
                "机关第一党支部",
                "机关第二党支部",
                "刑侦大队党支部",
                "交警大队党支部",
            ):
                self.add(
                    node,
                    f"{unit}{branch_label}",
                    OrgType.BRANCH,
                    gov,
                    "organ_branch",
                    unit_name=unit,
                )
            for street in d.streets:
                stem = d.street_stems[id(street)]
                station = f"{unit}{stem}派出所"
                d.police[id(street)] = self.add(
                    node, f"{station}党支部", OrgType.BRANCH, gov, "police", unit_name=station
                )
        picked = self.rng.sample(
            range(len(INSTITUTIONS)), min(len(INSTITUTIONS), self.span(institutions))
        )
        for i in sorted(picked):
            stem, org_type, branches = INSTITUTIONS[i]
            unit = f"{d.name}{stem}"
            suffix = {OrgType.COMMITTEE: "党委", OrgType.GENERAL_BRANCH: "党总支"}.get(
                org_type, "党支部"
            )
            node = self.add(
                committee,
                f"{unit}{suffix}",
                org_type,
                Sector.PUBLIC_INSTITUTION,
                "institution",
                founded=(1960, 2012),
                unit_name=unit,
                address=self.address(d),
            )
            for branch_label in branches:
                self.add(
                    node,
                    f"{unit}{branch_label}",
                    OrgType.BRANCH,
                    Sector.PUBLIC_INSTITUTION,
                    "institution_branch",
                    unit_name=unit,
                )
            d.link_units.append(node)

    def state_owned(self, d: District, top: Node, name: str, groups: Range, companies: Range):
        soe = Sector.STATE_OWNED_ENTERPRISE
        sasac = self.add(
            top,
            name,
            OrgType.COMMITTEE,
            soe,
            "sasac",
            founded=(2004, 2012),
            address=self.address(d),
        )
        sasac.unit_name = f"{d.name}国有资产监督管理委员会"
        picked = self.rng.sample(range(len(SOE_GROUPS)), min(len(SOE_GROUPS), self.span(groups)))
        for i in sorted(picked):
            stem, abbr = SOE_GROUPS[i]
            unit = f"{d.short}{stem}"
            group = self.add(
                sasac,
                f"{unit}党委",
                OrgType.COMMITTEE,
                soe,
                "soe_group",
                founded=(1998, 2016),
                unit_name=unit,
                address=self.address(d),
            )
            for n in range(1, self.rng.randint(1, 2) + 1):
                self.add(
                    group,
                    f"{unit}本部第{cn_number(n)}党支部",
                    OrgType.BRANCH,
                    soe,
                    "soe_branch",
                    unit_name=unit,
                )
            subsidiaries = self.rng.sample(SOE_SUBSIDIARIES, self.span(companies))
            for sub in subsidiaries:
                company = f"{d.short}{abbr}{sub}"
                if self.chance(0.6):
                    node = self.add(
                        group,
                        f"{company}党总支",
                        OrgType.GENERAL_BRANCH,
                        soe,
                        "soe_company",
                        unit_name=company,
                        address=self.address(d),
                    )
                    departments = self.rng.sample(COMPANY_DEPARTMENTS, self.rng.randint(2, 4))
                    for dept in sorted(departments, key=COMPANY_DEPARTMENTS.index):
                        branch = self.add(
                            node,
                            f"{company}{dept}党支部",
                            OrgType.BRANCH,
                            soe,
                            "soe_branch",
                            unit_name=company,
                        )
                        for g in range(1, self.rng.randint(0, 2) + 1):
                            self.add(
                                branch,
                                f"{company}{dept}第{cn_number(g)}党小组",
                                OrgType.GROUP,
                                soe,
                                "group",
                                unit_name=company,
                            )
                else:
                    node = self.add(
                        group,
                        f"{company}党支部",
                        OrgType.BRANCH,
                        soe,
                        "soe_company",
                        unit_name=company,
                        address=self.address(d),
                    )
                    for g in range(1, self.rng.randint(0, 2) + 1):
                        self.add(
                            node,
                            f"{company}第{cn_number(g)}党小组",
                            OrgType.GROUP,
                            soe,
                            "group",
                            unit_name=company,
                        )
                d.link_units.append(node)

    def enterprise_name(self, d: District) -> str:
        return self.unique(
            lambda: (
                self.rng.choice((CITY_SHORT, d.short))
                + self.rng.choice(BRAND_WORDS)
                + self.rng.choice(INDUSTRIES)
                + ("股份有限公司" if self.chance(0.15) else "有限公司")
            ),
        )

    def social_name(self, d: District) -> str:
        def make():
            if self.chance(0.6):
                return d.name + self.rng.choice(SOCIAL_STEMS)
            firm = self.rng.choice(SOCIAL_FIRMS)
            if firm in ("律师事务所", "会计师事务所"):
                return CITY_SHORT + self.rng.choice(BRAND_WORDS) + firm
            return d.name + self.rng.choice(BRAND_WORDS) + firm

        return self.unique(make)

    def new_economy(self, d: District, top: Node, size: DistrictSize):
        """The 非公企业和社会组织综合党委 with its enterprises, social organizations, joint and
        temporary branches."""
        npe, social = Sector.NON_PUBLIC_ENTERPRISE, Sector.SOCIAL_ORGANIZATION
        committee = self.add(
            top,
            f"{d.name}非公企业和社会组织综合党委",
            OrgType.COMMITTEE,
            npe,
            "np_committee",
            founded=(2008, 2016),
            unit_name=f"中共{d.name}委员会组织部",
            address=self.address(d),
        )
        for _ in range(self.span(size.enterprises)):
            company = self.enterprise_name(d)
            common = {"unit_name": company, "address": self.address(d)}
            if self.chance(0.15):
                node = self.add(
                    committee,
                    f"{company}党总支",
                    OrgType.GENERAL_BRANCH,
                    npe,
                    "np_enterprise",
                    founded=(2005, 2020),
                    **common,
                )
                departments = self.rng.sample(ENTERPRISE_DEPARTMENTS, self.rng.randint(2, 3))
                for dept in sorted(departments, key=ENTERPRISE_DEPARTMENTS.index):
                    self.add(
                        node,
                        f"{company}{dept}党支部",
                        OrgType.BRANCH,
                        npe,
                        "np_branch",
                        unit_name=company,
                    )
            else:
                node = self.add(
                    committee,
                    f"{company}党支部",
                    OrgType.BRANCH,
                    npe,
                    "np_enterprise",
                    founded=(2005, 2023),
                    **common,
                )
                if self.chance(0.25):
                    self.add(
                        node, f"{company}第一党小组", OrgType.GROUP, npe, "group", unit_name=company
                    )
            d.standalone.append((node, company, NewOrgCategory.NON_PUBLIC_ENTERPRISE))
        for _ in range(self.span(size.social)):
            unit = self.social_name(d)
            node = self.add(
                committee,
                f"{unit}党支部",
                OrgType.BRANCH,
                social,
                "social_branch",
                founded=(2010, 2023),
                unit_name=unit,
                address=self.address(d),
            )
            d.standalone.append((node, unit, NewOrgCategory.SOCIAL_ORGANIZATION))
        clusters = self.rng.sample(JOINT_CLUSTERS, min(len(JOINT_CLUSTERS), self.span(size.joint)))
        for cluster in clusters:
            place = (
                d.name
                if cluster in ("律师行业", "家政服务行业", "快递物流行业") or not d.streets
                else self.rng.choice(d.streets).name.removesuffix("党工委")
            )
            sector = social if cluster == "律师行业" else npe
            node = self.add(
                committee,
                f"{place}{cluster}联合党支部",
                OrgType.JOINT_BRANCH,
                sector,
                "joint",
                founded=(2014, 2023),
                unit_name=f"{place}{cluster}",
            )
            d.joint.append(node)
        projects = self.rng.sample(PROJECTS, min(len(PROJECTS), self.span(size.temporary) + 1))
        street = (
            self.rng.choice(d.streets).name.removesuffix("街道党工委") if d.streets else d.short
        )
        for number, pattern in enumerate(projects):
            project = self.unique(
                lambda pattern=pattern: pattern.format(
                    n=self.rng.randint(2, 9), district=d.name, street=street, city=CITY
                )
            )
            node = self.add(
                committee,
                f"{project}临时党支部",
                OrgType.TEMPORARY_BRANCH,
                Sector.OTHER,
                "temporary",
                unit_name=project,
            )
            if number == 0:  # a finished project: its branch was dissolved
                node.founded_on = self.between(self.years_ago(3), self.years_ago(1.5))
                node.dissolved_on = self.between(self.years_ago(0.8), self.years_ago(0.2))
                node.dissolution_reason = DISSOLUTION_REASON
            else:
                node.founded_on = self.between(self.years_ago(1), self.years_ago(0.3))

    # -- paths ---------------------------------------------------------------------------

    def assign_paths(self, root: Node) -> None:
        """treebeard's materialized paths: the parent's path + the 1-based position in base 36."""
        steplen, alphabet = Organization.steplen, Organization.alphabet
        base = len(alphabet)

        def encode(position: int) -> str:
            digits = ""
            while position:
                position, rest = divmod(position, base)
                digits = alphabet[rest] + digits
            return digits.rjust(steplen, alphabet[0])

        root.path, root.depth = encode(1), 1
        order = []
        stack = [root]
        while stack:
            node = stack.pop()
            order.append(node)
            for position, child in enumerate(node.children, start=1):
                child.path = node.path + encode(position)
                child.depth = node.depth + 1
            stack.extend(reversed(node.children))
        self.nodes = order

    # -- what each organization records ---------------------------------------------------

    def assign_terms(self) -> None:
        elected = [n for n in self.nodes if n.org_type in ELECTED_TYPES and n.dissolved_on is None]
        candidates = [n for n in elected if not n.reserved and n.kind not in ("city", "district")]
        status: dict[int, str] = {}
        remaining = list(candidates)
        for key, share in (
            ("overdue", 0.03),
            ("soon", 0.04),
            ("unrecorded", 0.025),
            ("extended", 0.01),
        ):
            for node in self.quota(remaining, share):
                status[id(node)] = key
            remaining = [n for n in remaining if id(n) not in status]
        for node in elected:
            years = default_term_years(node.org_type, node.sector, self.rules)
            key = status.get(id(node), "current")
            if key == "unrecorded" or not years:
                continue
            if key == "soon":
                due_days = self.rng.randint(5, 170)
            elif key == "overdue":
                due_days = -self.rng.randint(10, 420)
            elif key == "extended":
                due_days = self.rng.randint(-120, 30)
                node.term_adjust_months = 12
                approval = self.rng.choice(EXTENSION_REASONS)
                node.term_adjust_reason = f"因{approval}，经上级党组织批准延期换届12个月"
            else:
                due_days = self.rng.randint(200, years * 365 - 30)
            due = self.today + timedelta(days=due_days)
            node.term_started_on = add_months(due, -12 * years)
            if node.founded_on and node.founded_on > node.term_started_on:
                node.founded_on = node.term_started_on

    def seats_for(self, node: Node) -> list[Seat]:
        P = CommitteePost
        kind, org_type = node.kind, node.org_type
        if org_type == OrgType.GROUP:
            since = self.between(max(node.founded_on, self.years_ago(6)), self.years_ago(0.1))
            return [Seat(P.GROUP_LEADER, self.person(), started_on=since)]
        if org_type in (OrgType.COMMITTEE, OrgType.WORKING_COMMITTEE):
            small = kind in ("community", "village")
            posts = [P.SECRETARY] + [P.DEPUTY_SECRETARY] * (1 if small else self.rng.randint(1, 2))
            posts += [P.ORGANIZATION, P.PROPAGANDA, P.DISCIPLINE]
            posts += [P.MEMBER] * self.rng.randint(0, 1 if small else 2)
            if not small and self.chance(0.3):
                posts.append(self.rng.choice([P.YOUTH, P.WOMEN]))
        elif org_type == OrgType.GENERAL_BRANCH:
            posts = [P.SECRETARY] + ([P.DEPUTY_SECRETARY] if self.chance(0.4) else [])
            posts += [P.ORGANIZATION, P.PROPAGANDA, P.DISCIPLINE]
        elif org_type == OrgType.TEMPORARY_BRANCH:
            posts = [P.SECRETARY] + ([P.DEPUTY_SECRETARY] if self.chance(0.5) else [])
        elif node.reserved or self.chance(0.6):
            # A branch with seven or more full members elects a committee.
            posts = [P.SECRETARY] + ([P.DEPUTY_SECRETARY] if self.chance(0.2) else [])
            posts += [P.ORGANIZATION, P.PROPAGANDA, P.DISCIPLINE]
        else:
            posts = [P.SECRETARY] + ([P.DEPUTY_SECRETARY] if self.chance(0.15) else [])
        full_time_secretary = kind in (
            "city",
            "district",
            "street",
            "town",
            "community",
            "organ_wc",
            "sasac",
            "np_committee",
            "soe_group",
        )
        full_time_deputy = full_time_secretary or (
            org_type == OrgType.COMMITTEE and kind in ("organ", "institution")
        )
        # Appointed bodies (党工委, groups) have no term: their seats date from a recent
        # appointment, never from the founding decades ago.
        started = node.term_started_on or max(
            node.founded_on or self.years_ago(4),
            self.between(self.years_ago(5), self.years_ago(0.5)),
        )
        seats = []
        for post in posts:
            if post == P.SECRETARY:
                full_time = full_time_secretary
            elif post == P.DEPUTY_SECRETARY:
                full_time = full_time_deputy
            else:
                full_time = kind in ("street", "town", "district", "city") and self.chance(0.5)
            seats.append(Seat(post, self.person(), full_time, started_on=started))
        return seats

    def assign_committees(self) -> None:
        for node in self.nodes:
            node.seats = self.seats_for(node)
            if node.dissolved_on:
                for seat in node.seats:
                    seat.ended_on = node.dissolved_on
        required = [
            n
            for n in self.nodes
            if n.org_type in SECRETARY_REQUIRED_TYPES
            and n.dissolved_on is None
            and not n.reserved
            and n.kind not in ("city", "district")
        ]
        for number, node in enumerate(self.quota(required, 0.02)):
            secretary = node.seats[0]
            if number % 2:
                node.seats.remove(secretary)  # never appointed
            else:  # moved away, successor not yet elected
                earliest = self.years_ago(0.5)
                if secretary.started_on:
                    earliest = max(earliest, secretary.started_on + timedelta(days=30))
                secretary.ended_on = self.between(earliest, self.today)

    def assign_facilities(self) -> None:
        communities = [n for n in self.nodes if n.kind == "community" and not n.reserved]
        for node in self.nodes:
            if node.kind == "community":
                node.premises_area = Decimal(self.rng.randrange(1000, 3200, 5))
            elif node.kind == "street":
                node.premises_area = Decimal(self.rng.randrange(2000, 8000, 50))
            elif node.kind == "town":
                node.premises_area = Decimal(self.rng.randrange(800, 3000, 10))
            elif node.kind == "village":
                node.premises_area = Decimal(self.rng.randrange(300, 1500, 5))
        below = self.quota(communities, 0.08)
        for node in below:
            node.premises_area = Decimal(self.rng.randrange(280, 960, 5))
        rest = [n for n in communities if n not in below]
        for node in self.quota(rest, 0.02):
            node.premises_area = None
        keeping = [
            n
            for n in self.nodes
            if n.dissolved_on is None
            and not n.reserved
            and (n.org_type in BRANCH_TYPES or n.kind in ("community", "village"))
        ]
        for node in self.quota(keeping, 0.03):
            gaps = set()
            for _ in range(self.rng.randint(1, 2)):
                gaps.add(self.rng.choices(range(6), weights=SIX_HAVE_GAP_WEIGHTS)[0])
            node.six_haves = tuple(i not in gaps for i in range(6))
        for node in self.nodes:  # a 党小组 uses its branch's premises
            if node.org_type == OrgType.GROUP and node.parent is not None:
                node.six_haves = node.parent.six_haves

    def assign_incomes(self) -> None:
        villages = [n for n in self.nodes if n.kind == "village"]
        hollow = self.quota(villages, 0.08)
        missing = self.quota([v for v in villages if v not in hollow], 0.04)
        last = self.today.year - 1
        for village in villages:
            if village in hollow:
                amount = self.rng.randint(8_000, 48_000)
            else:
                amount = int(self.rng.lognormvariate(12.6, 0.8))
                amount = max(amount, self.rng.randint(55_000, 90_000))
            for year in (last, last - 1, last - 2):
                if not (year == last and village in missing):
                    value = Decimal(amount).quantize(Decimal("0.01"))
                    if year != last:
                        value = (value * Decimal(self.rng.uniform(0.8, 1.05))).quantize(
                            Decimal("0.01")
                        )
                    self.incomes.append((village, year, value))
                amount = int(amount * self.rng.uniform(0.85, 1.0))

    # -- regional structure --------------------------------------------------------------

    def outside_unit(self, d: District, street: Node) -> str:
        stem = d.street_stems.get(id(street), d.short)
        return self.rng.choice(OUTSIDE_UNITS).format(
            city=CITY,
            city_short=CITY_SHORT,
            district=d.name,
            street=stem,
            cn=cn_number(self.rng.randint(1, 12)),
        )

    def add_link(self, hub: Node, unit: Node | None, unit_name: str, part_time: float) -> None:
        start = max(hub.founded_on or date(2015, 1, 1), date(2015, 1, 1))
        link = Link(
            hub=hub,
            unit=unit,
            unit_name=unit_name,
            leader_name=self.person(),
            part_time_member=self.chance(part_time),
            joined_on=self.between(start, self.today - timedelta(days=30)),
        )
        if self.chance(0.03):
            link.left_on = self.between(link.joined_on + timedelta(days=180), self.today)
        self.links.append(link)
        if link.part_time_member:
            hub.seats.append(
                Seat(
                    CommitteePost.MEMBER,
                    link.leader_name,
                    False,
                    from_unit=unit_name,
                    started_on=link.joined_on,
                    ended_on=link.left_on,
                )
            )

    def regional_links(self) -> None:
        for d in self.districts:
            if not d.streets:
                continue
            for street in d.streets:
                for _ in range(self.rng.randint(1, 2)):
                    self.add_link(street, None, self.outside_unit(d, street), 0.7)
                for community in street.children:
                    if not community.is_hub:
                        continue
                    linked = set()
                    police = d.police.get(id(street))
                    if police is not None and self.chance(0.7):
                        self.add_link(community, police, police.unit_name, 0.6)
                    for unit in self.rng.sample(
                        d.link_units, min(len(d.link_units), self.rng.randint(1, 2))
                    ):
                        if unit.unit_name not in linked:
                            linked.add(unit.unit_name)
                            self.add_link(community, unit, unit.unit_name, 0.5)
                    for _ in range(self.rng.randint(1, 2)):
                        name = self.outside_unit(d, street)
                        if name not in linked:
                            linked.add(name)
                            self.add_link(community, None, name, 0.5)

    # -- the new-organization register ----------------------------------------------------

    def credit_code(self, kind: str, d: District) -> str:
        """A well-formed 统一社会信用代码 (GB 32100) with a valid organization-code check."""
        body = "MA" + "".join(self.rng.choice("0123456789ABCDEFGHJKLMNPQRTUWXY") for _ in range(6))
        values = [int(c, 36) for c in body]
        check = 11 - sum(v * w for v, w in zip(values, ORG_CODE_WEIGHTS, strict=True)) % 11
        org_code = body + {10: "X", 11: "0"}.get(check, str(check))
        code = kind + d.area_code + org_code
        total = sum(CREDIT_CHARS.index(c) * w for c, w in zip(code, CREDIT_WEIGHTS, strict=True))
        return code + CREDIT_CHARS[(31 - total % 31) % 31]

    def small_business_name(self, d: District, small_type: str) -> str:
        def make():
            if small_type == SmallBusinessType.INDIVIDUAL_BUSINESS:
                surname = self.rng.choices(SURNAMES, cum_weights=self._surname_cum)[0]
                road = self.rng.choice(ROADS)
                return f"{d.name}{road}{surname}记{self.rng.choice(SHOPS)}"
            if small_type == SmallBusinessType.SPECIALIZED_MARKET:
                return d.name + self.rng.choice(COMMUNITY_STEMS) + self.rng.choice(MARKETS)
            name = (
                self.rng.choice((CITY_SHORT, d.short))
                + self.rng.choice(BRAND_WORDS)
                + self.rng.choice(INDUSTRIES)
                + self.rng.choice(STUDIOS)
            )
            return name.replace("服务服务部", "服务部")

        return self.unique(make)

    def area_for(self, d: District, category: str) -> Node:
        wide = d.streets + d.towns
        if category == NewOrgCategory.SMALL_BUSINESS:
            if d.communities and self.chance(0.7):
                return self.rng.choice(d.communities)
        elif wide and self.chance(0.6):
            return self.rng.choice(wide)
        return self.rng.choice(d.communities or wide)

    def joint_organization(self, d: District, area: Node, load: dict[int, int]) -> Node | None:
        """A 联合党支部 with room (≤5 units), else a branch in the area itself."""
        open_joint = [j for j in d.joint if load[id(j)] < 5]
        if open_joint and self.chance(0.6):
            chosen = self.rng.choice(open_joint)
            load[id(chosen)] += 1
            return chosen
        branches = [n for n in area.children if n.org_type == OrgType.BRANCH]
        if area.kind == "street":
            branches = [
                g for c in area.children for g in c.children if g.kind == "grid"
            ] or branches
        elif area.org_type == OrgType.BRANCH:
            branches = [area]
        if branches:
            return self.rng.choice(branches)
        return self.rng.choice(d.joint) if d.joint else None

    def entry(
        self, d: District, category: str, area: Node | None = None, name: str = ""
    ) -> RegisterEntry:
        small_type = ""
        if category == NewOrgCategory.SMALL_BUSINESS:
            small_type = self.rng.choices(SmallBusinessType.values, weights=(0.4, 0.5, 0.1))[0]
        if not name:
            if category == NewOrgCategory.NON_PUBLIC_ENTERPRISE:
                name = self.enterprise_name(d)
            elif category == NewOrgCategory.SOCIAL_ORGANIZATION:
                name = self.social_name(d)
            else:
                name = self.small_business_name(d, small_type)
        if category == NewOrgCategory.NON_PUBLIC_ENTERPRISE:
            employees, code_kind = self.rng.randint(15, 600), "91"
        elif category == NewOrgCategory.SOCIAL_ORGANIZATION:
            employees, code_kind = self.rng.randint(4, 80), self.rng.choice(("51", "52"))
        elif small_type == SmallBusinessType.INDIVIDUAL_BUSINESS:
            employees, code_kind = self.rng.randint(1, 8), "92"
        elif small_type == SmallBusinessType.SPECIALIZED_MARKET:
            employees, code_kind = self.rng.randint(40, 400), "91"
        else:
            employees, code_kind = self.rng.randint(3, 30), "91"
        return RegisterEntry(
            name=name,
            category=category,
            area=area or self.area_for(d, category),
            small_business_type=small_type,
            employee_count=employees,
            credit_code=self.credit_code(code_kind, d),
            registered_on=self.between(date(2003, 1, 1), self.today - timedelta(days=60)),
        )

    def register_district(self, d: District, size: int) -> None:
        entries: list[RegisterEntry] = []
        load = {id(j): 0 for j in d.joint}
        for node, unit, category in d.standalone:
            e = self.entry(d, category, name=unit)
            e.coverage, e.party_organization = Coverage.STANDALONE, node
            e.member_count = (
                self.rng.randint(50, 90)
                if node.org_type == OrgType.GENERAL_BRANCH
                else self.rng.randint(3, 40)
            )
            e.employee_count = max(e.employee_count, e.member_count * 4)
            entries.append(e)
        for joint in d.joint:
            for _ in range(self.rng.randint(3, 4)):
                category = self.rng.choices(NewOrgCategory.values, weights=(0.4, 0.2, 0.4))[0]
                e = self.entry(d, category)
                e.coverage, e.party_organization = Coverage.JOINT, joint
                load[id(joint)] += 1
                e.member_count = self.rng.randint(1, 2)
                entries.append(e)
        free: list[RegisterEntry] = []
        for _ in range(max(0, size - len(entries))):
            category = self.rng.choices(NewOrgCategory.values, weights=(0.22, 0.13, 0.65))[0]
            free.append(self.entry(d, category))
        for e in free:
            if e.category != NewOrgCategory.SMALL_BUSINESS:
                e.coverage = self.rng.choices(
                    (
                        Coverage.JOINT,
                        Coverage.INSTRUCTOR,
                        Coverage.MASS_ORG_FIRST,
                        Coverage.UNCOVERED,
                    ),
                    weights=(0.25, 0.35, 0.15, 0.25),
                )[0]
        # 小个专: about 40–55% covered in each district, around the 50% target.
        small = [e for e in entries + free if e.category == NewOrgCategory.SMALL_BUSINESS]
        covered = sum(1 for e in small if e.coverage != Coverage.UNCOVERED)
        wanted = round(self.rng.uniform(0.40, 0.55) * len(small)) - covered
        free_small = [e for e in free if e.category == NewOrgCategory.SMALL_BUSINESS]
        for e in self.quota(free_small, 0, minimum=max(0, wanted)):
            e.coverage = self.rng.choices(
                (Coverage.JOINT, Coverage.INSTRUCTOR, Coverage.MASS_ORG_FIRST),
                weights=(0.35, 0.45, 0.2),
            )[0]
        for e in free:
            if e.coverage == Coverage.JOINT:
                e.party_organization = self.joint_organization(d, e.area, load)
                if e.party_organization is None:
                    e.coverage = Coverage.INSTRUCTOR
                e.member_count = self.rng.randint(1, 2)
            elif e.coverage == Coverage.INSTRUCTOR:
                e.instructor_name = self.person()
                e.member_count = self.rng.choice((0, 0, 1, 2))
            else:
                e.member_count = self.rng.choice((0, 0, 0, 1, 2))
        uncovered = [e for e in free if e.coverage == Coverage.UNCOVERED]
        for e in self.quota(uncovered, 0.08):
            e.member_count = self.rng.randint(3, 6)  # should have formed a branch
        for e in entries + free:
            covered = e.coverage != Coverage.UNCOVERED
            e.checks = (
                self.chance(0.85 if covered else 0.5),
                self.chance(0.7 if covered else 0.3),
                self.chance(0.8 if covered else 0.4),
            )
        self.register.extend(entries + free)

    # -- putting it together -------------------------------------------------------------

    def generate(self) -> None:
        """Build everything in memory (no database access)."""
        root = self.build_tree()
        self.assign_paths(root)
        self.assign_terms()
        self.assign_committees()
        self.assign_facilities()
        self.assign_incomes()
        self.regional_links()
        for d in self.districts:
            if d.streets or d.towns:
                self.register_district(d, self.scale.district.register)

    def organization(self, node: Node) -> Organization:
        org = Organization(
            path=node.path,
            depth=node.depth,
            numchild=len(node.children),
            name=node.name,
            org_type=node.org_type,
            sector=node.sector,
            unit_name=node.unit_name,
            address=node.address,
            founded_on=node.founded_on,
            dissolved_on=node.dissolved_on,
            dissolution_reason=node.dissolution_reason,
            term_started_on=node.term_started_on,
            term_adjust_months=node.term_adjust_months,
            term_adjust_reason=node.term_adjust_reason,
            premises_area=node.premises_area,
            **dict(zip(SIX_HAVE_FIELDS, node.six_haves, strict=True)),
        )
        apply_term(org, self.rules)
        return org

    @transaction.atomic
    def save(self) -> SeedSummary:
        """Write the generated data. The organization table must be empty."""
        if Organization.objects.exists():
            raise RuntimeError("organizations exist already")
        Organization.objects.bulk_create(
            [self.organization(n) for n in self.nodes], batch_size=BATCH_SIZE
        )
        pks = dict(
            Organization.objects.filter(path_range_q(self.root.path)).values_list("path", "pk")
        )
        for node in self.nodes:
            node.pk = pks[node.path]

        members = [
            CommitteeMember(
                organization_id=node.pk,
                post=seat.post,
                post_rank=POST_RANK.get(seat.post, 99),
                name=seat.name,
                full_time=seat.full_time,
                from_unit=seat.from_unit,
                started_on=seat.started_on,
                ended_on=seat.ended_on,
            )
            for node in self.nodes
            for seat in node.seats
        ]
        CommitteeMember.objects.bulk_create(members, batch_size=BATCH_SIZE)
        VillageIncome.objects.bulk_create(
            [VillageIncome(organization_id=n.pk, year=y, amount=a) for n, y, a in self.incomes],
            batch_size=BATCH_SIZE,
        )
        RegionalLink.objects.bulk_create(
            [
                RegionalLink(
                    hub_id=link.hub.pk,
                    unit_organization_id=link.unit.pk if link.unit else None,
                    unit_name=link.unit_name,
                    leader_name=link.leader_name,
                    part_time_member=link.part_time_member,
                    joined_on=link.joined_on,
                    left_on=link.left_on,
                )
                for link in self.links
            ],
            batch_size=BATCH_SIZE,
        )
        NewOrganization.objects.bulk_create(
            [
                NewOrganization(
                    name=e.name,
                    credit_code=e.credit_code,
                    category=e.category,
                    small_business_type=e.small_business_type,
                    area_id=e.area.pk,
                    employee_count=e.employee_count,
                    member_count=e.member_count,
                    coverage=e.coverage,
                    party_organization_id=(
                        e.party_organization.pk if e.party_organization else None
                    ),
                    instructor_name=e.instructor_name,
                    checked_at_registration=e.checks[0],
                    checked_at_growth=e.checks[1],
                    checked_at_inspection=e.checks[2],
                    registered_on=e.registered_on,
                )
                for e in self.register
            ],
            batch_size=BATCH_SIZE,
        )
        users = self.save_users()
        return SeedSummary(
            scale=self.scale.name,
            seed=self.seed,
            today=self.today,
            root=self.root.name,
            organizations=len(self.nodes),
            committee_members=len(members),
            village_incomes=len(self.incomes),
            regional_links=len(self.links),
            new_organizations=len(self.register),
            users_branch=self.users_branch.name,
            users=users,
        )

    def save_users(self) -> int:
        """The demo logins, one per role, and their grants."""
        branch = self.users_branch
        secretary = next(s.name for s in branch.seats if s.post == CommitteePost.SECRETARY)
        clerk = next(s.name for s in branch.seats if s.post == CommitteePost.ORGANIZATION)
        names = {
            "branch_secretary": secretary,
            "branch_clerk": clerk,
            "member_demo": self.person(),
            "quwei_admin": self.person(),
            "sys_admin": self.person(),
            "sec_admin": self.person(),
            "audit_admin": self.person(),
            "admin": "超级管理员",
        }
        password = make_password(DEMO_PASSWORD)  # hashed once: all demo users share it
        grants = []
        for username, role, scope in DEMO_LOGINS:
            user, _created = User.objects.get_or_create(username=username)
            user.full_name = names[username]
            # Reserved domain (RFC 2606): reminders go to the console backend in the demo.
            user.email = f"{username}@dangjian.example"
            user.password = password
            user.is_active = True
            user.is_superuser = user.is_staff = role is None
            user.save()
            RoleGrant.objects.filter(user=user).delete()
            if role is not None:
                target = self.root if scope == "root" else branch
                grants.append(RoleGrant(user=user, organization_id=target.pk, role=role))
        RoleGrant.objects.bulk_create(grants)
        return len(DEMO_LOGINS)

    def run(self) -> SeedSummary:
        self.generate()
        return self.save()


# (username, role or None for the superuser, where the role is granted)
DEMO_LOGINS: list[tuple[str, str | None, str]] = [
    ("member_demo", Role.MEMBER, "branch"),
    ("branch_clerk", Role.CLERK, "branch"),
    ("branch_secretary", Role.SECRETARY, "branch"),
    ("quwei_admin", Role.COMMITTEE_ADMIN, "root"),
    ("sys_admin", Role.SYSTEM_ADMIN, "root"),
    ("sec_admin", Role.SECURITY_ADMIN, "root"),
    ("audit_admin", Role.AUDIT_ADMIN, "root"),
    ("admin", None, ""),
]


def demo_logins() -> list[tuple[str, str, str, str, str]]:
    """(username, name, role, organization, note) for each demo login, as in the database."""
    from dangjian.accounts.otp import second_factor_required

    users = {u.username: u for u in User.objects.filter(username__in=[r[0] for r in DEMO_LOGINS])}
    grants = {
        (g.user_id, g.role): g.organization.name
        for g in RoleGrant.objects.filter(user__in=users.values()).select_related("organization")
    }
    rows = []
    for username, role, _scope in DEMO_LOGINS:
        label = str(Role(role).label) if role else "超级用户"
        user = users.get(username)
        if user is None:
            rows.append((username, "", label, "（未创建）", ""))
            continue
        notes = []
        if role is None:
            where = "（全部）"
            notes.append("不受授权范围限制")
        else:
            where = grants.get((user.pk, role), "（无授权）")
        if second_factor_required(user):
            notes.append("须使用动态口令（首次登录时绑定）")
        rows.append((username, user.full_name, label, where, "；".join(notes)))
    return rows


def clear_demo_data() -> None:
    """Delete the organization tree and everything hanging on it (not the audit log, not users)."""
    from dangjian.orglife.demo import clear_orglife_data

    with transaction.atomic():
        # Meetings (and the attendance that protects members) would block the tree's delete.
        clear_orglife_data()
        NewOrganization.objects.all().delete()
        Organization.objects.filter(depth=1).delete()  # treebeard deletes whole subtrees
