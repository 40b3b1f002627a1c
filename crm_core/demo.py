"""Sample CRM records for the demo company (`make run`): a sales team at work.

Customers with Chinese, Japanese and English names in five regions, their contacts,
leads (some in the public pool), two pipelines with deals in every stage and their stage
history, and calls, visits, meetings, notes and tasks over the last 60 and next 30 days.

Written straight through the ORM (bulk inserts: the whole company takes well under a
second), so no outbox events are recorded: nothing here happened "live". Derived fields
are kept as the services keep them: name_key / phone_key / search_text from
crm_core.records, team from the owner, last follow-up from the latest activity.
Deterministic for a given `seed` and `now`.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from decimal import Decimal

from django.db import transaction
from django.utils import timezone

from accounts.models import User
from accounts.roles import Role

from .models import (
    Activity,
    AssignmentRule,
    Contact,
    Customer,
    Deal,
    DealStageChange,
    FieldChange,
    Lead,
    Pipeline,
    PoolMove,
    PoolSettings,
    Region,
    Stage,
)
from .records import name_key, phone_key, search_text

DEFAULT_SEED = 2026

# --- sample data ------------------------------------------------------------------------

# Region -> (locale, currency, cities with an office address line and postcode).
REGIONS = {
    "华东": ("zh", "CNY", [("上海市", "浦东新区世纪大道100号", "200120", "中国")]),
    "华南": ("zh", "CNY", [("广州市", "天河区珠江新城华夏路8号", "510623", "中国")]),
    "関東": ("ja", "JPY", [("東京都港区", "芝浦3-1-1", "108-0023", "日本")]),
    "関西": ("ja", "JPY", [("大阪市北区", "梅田2-4-9", "530-0001", "日本")]),
    "North America": ("en", "USD", [("San Francisco, CA", "500 Howard Street", "94105", "US")]),
}

# (name, domain, region, industry)
COMPANIES = [
    ("上海明华贸易有限公司", "minghua-trade.cn", "华东", "wholesale"),
    ("杭州云帆科技有限公司", "yunfan-tech.cn", "华东", "software"),
    ("苏州精工机械股份有限公司", "jinggong-mach.cn", "华东", "manufacturing"),
    ("南京华信物流有限公司", "huaxin-logistics.cn", "华东", "logistics"),
    ("宁波海天塑料制品有限公司", "haitian-plastics.cn", "华东", "manufacturing"),
    ("无锡新源电子有限公司", "xinyuan-elec.cn", "华东", "electronics"),
    ("上海瑞康医疗器械有限公司", "ruikang-med.cn", "华东", "healthcare"),
    ("合肥智联教育科技有限公司", "zhilian-edu.cn", "华东", "education"),
    ("常州绿源食品有限公司", "lvyuan-food.cn", "华东", "food and beverage"),
    ("温州东方鞋业有限公司", "dongfang-shoes.cn", "华东", "retail"),
    ("广州南方建材集团有限公司", "nanfang-build.cn", "华南", "construction"),
    ("深圳光明电子科技有限公司", "guangming-tech.cn", "华南", "electronics"),
    ("东莞永盛五金制品有限公司", "yongsheng-hw.cn", "华南", "manufacturing"),
    ("佛山美家家居有限公司", "meijia-home.cn", "华南", "retail"),
    ("厦门海润国际贸易有限公司", "hairun-intl.cn", "华南", "wholesale"),
    ("珠海星辰软件有限公司", "xingchen-soft.cn", "华南", "software"),
    ("株式会社サクラ精工", "sakura-seiko.co.jp", "関東", "manufacturing"),
    ("東京ネットワークス株式会社", "tokyo-networks.co.jp", "関東", "software"),
    ("株式会社みなと物流", "minato-logi.co.jp", "関東", "logistics"),
    ("横浜フーズ株式会社", "yokohama-foods.co.jp", "関東", "food and beverage"),
    ("株式会社青葉メディカル", "aoba-medical.co.jp", "関東", "healthcare"),
    ("さいたま建設株式会社", "saitama-kensetsu.co.jp", "関東", "construction"),
    ("株式会社ひかり電機", "hikari-denki.co.jp", "関東", "electronics"),
    ("千葉オートパーツ株式会社", "chiba-autoparts.co.jp", "関東", "automotive"),
    ("有限会社やまと商事", "yamato-shoji.co.jp", "関東", "wholesale"),
    ("株式会社なにわ製作所", "naniwa-ss.co.jp", "関西", "manufacturing"),
    ("京都テキスタイル株式会社", "kyoto-textile.co.jp", "関西", "manufacturing"),
    ("神戸マリン商会株式会社", "kobe-marine.co.jp", "関西", "logistics"),
    ("株式会社大阪ソフトウェア", "osaka-soft.co.jp", "関西", "software"),
    ("奈良薬品株式会社", "nara-yakuhin.co.jp", "関西", "healthcare"),
    ("株式会社関西リテール", "kansai-retail.co.jp", "関西", "retail"),
    ("Northwind Traders", "northwind.example.com", "North America", "wholesale"),
    ("Contoso Manufacturing Inc.", "contoso-mfg.example.com", "North America", "manufacturing"),
    ("Fabrikam Logistics LLC", "fabrikam.example.com", "North America", "logistics"),
    ("Adventure Works Cycles", "adventure-works.example.com", "North America", "retail"),
    ("Tailspin Toys", "tailspin.example.com", "North America", "retail"),
    ("Litware Software Corp.", "litware.example.com", "North America", "software"),
    ("Proseware Health", "proseware.example.com", "North America", "healthcare"),
    ("Wide World Importers", "wideworld.example.com", "North America", "wholesale"),
    ("Blue Yonder Airlines", "blueyonder.example.com", "North America", "transport"),
    ("Coho Winery", "coho-winery.example.com", "North America", "food and beverage"),
    ("Alpine Ski House", "alpine-ski.example.com", "North America", "retail"),
    ("Lucerne Publishing", "lucerne.example.com", "North America", "media"),
    ("Woodgrove Bank", "woodgrove.example.com", "North America", "finance"),
    ("Trey Research", "trey-research.example.com", "North America", "education"),
    ("Graphic Design Institute", "gdi.example.com", "North America", "education"),
    ("Humongous Insurance", "humongous.example.com", "North America", "finance"),
    ("First Up Consultants", "firstup.example.com", "North America", "consulting"),
    ("Margie's Travel", "margies-travel.example.com", "North America", "travel"),
    ("Fourth Coffee", "fourthcoffee.example.com", "North America", "food and beverage"),
    ("VanArsdel Ltd.", "vanarsdel.example.com", "North America", "manufacturing"),
    ("Relecloud", "relecloud.example.com", "North America", "software"),
]

# Individual customers: (name, romanised, region).
INDIVIDUALS = [
    ("陈建国", "chen.jianguo", "华东"),
    ("黄丽娟", "huang.lijuan", "华南"),
    ("山本 拓也", "yamamoto.takuya", "関東"),
    ("中村 彩", "nakamura.aya", "関西"),
    ("Olivia Bennett", "olivia.bennett", "North America"),
    ("Marcus Reid", "marcus.reid", "North America"),
    ("周婷", "zhou.ting", "华东"),
    ("小林 翔太", "kobayashi.shota", "関東"),
]

# Person names per locale: (name, romanised for e-mail addresses).
PEOPLE = {
    "zh": [
        ("王芳", "wang.fang"),
        ("刘洋", "liu.yang"),
        ("陈静", "chen.jing"),
        ("杨磊", "yang.lei"),
        ("赵丽", "zhao.li"),
        ("黄志强", "huang.zhiqiang"),
        ("吴婷婷", "wu.tingting"),
        ("周杰", "zhou.jie"),
        ("徐明", "xu.ming"),
        ("孙晓燕", "sun.xiaoyan"),
        ("马超", "ma.chao"),
        ("朱海峰", "zhu.haifeng"),
        ("胡静怡", "hu.jingyi"),
        ("郭伟", "guo.wei"),
        ("林晓明", "lin.xiaoming"),
        ("何雪", "he.xue"),
    ],
    "ja": [
        ("鈴木 一郎", "suzuki.ichiro"),
        ("高橋 美咲", "takahashi.misaki"),
        ("伊藤 大輔", "ito.daisuke"),
        ("渡辺 直美", "watanabe.naomi"),
        ("山田 太郎", "yamada.taro"),
        ("加藤 恵", "kato.megumi"),
        ("吉田 健太", "yoshida.kenta"),
        ("松本 さくら", "matsumoto.sakura"),
        ("井上 誠", "inoue.makoto"),
        ("木村 陽子", "kimura.yoko"),
        ("林 裕介", "hayashi.yusuke"),
        ("清水 美穂", "shimizu.miho"),
        ("森 隆", "mori.takashi"),
        ("池田 真由美", "ikeda.mayumi"),
    ],
    "en": [
        ("James Carter", "james.carter"),
        ("Sarah Mitchell", "sarah.mitchell"),
        ("David Kim", "david.kim"),
        ("Emily Johnson", "emily.johnson"),
        ("Michael Brown", "michael.brown"),
        ("Jessica Lee", "jessica.lee"),
        ("Robert Garcia", "robert.garcia"),
        ("Laura Wilson", "laura.wilson"),
        ("Daniel Martinez", "daniel.martinez"),
        ("Sophie Turner", "sophie.turner"),
        ("Kevin Nguyen", "kevin.nguyen"),
        ("Rachel Adams", "rachel.adams"),
    ],
}

# Companies leads work for (prospects, not yet customers): (name, domain).
PROSPECTS = {
    "zh": [
        ("上海浦江包装材料有限公司", "pujiang-pack.cn"),
        ("苏州天工自动化有限公司", "tiangong-auto.cn"),
        ("广州恒通商贸有限公司", "hengtong.cn"),
        ("深圳华创智能科技有限公司", "huachuang-ai.cn"),
        ("杭州西湖茶业有限公司", "xihu-tea.cn"),
        ("成都蜀锦服饰有限公司", "shujin.cn"),
    ],
    "ja": [
        ("株式会社ふじ技研", "fuji-giken.co.jp"),
        ("品川ロジスティクス株式会社", "shinagawa-logi.co.jp"),
        ("株式会社さくら不動産", "sakura-fudosan.co.jp"),
        ("京阪テクノ株式会社", "keihan-techno.co.jp"),
        ("株式会社みらい食品", "mirai-foods.co.jp"),
    ],
    "en": [
        ("Summit Outdoor Gear", "summit-gear.example.com"),
        ("Bluewater Analytics", "bluewater.example.com"),
        ("Redwood Dental Group", "redwood-dental.example.com"),
        ("Harbor Freightways", "harbor-freight.example.com"),
        ("Oakridge Schools", "oakridge.example.org"),
    ],
}

# (job title, decision role) per locale.
JOBS = {
    "zh": [
        ("总经理", "decision_maker"),
        ("采购经理", "influencer"),
        ("IT主管", "user"),
        ("财务总监", "decision_maker"),
        ("行政助理", "gatekeeper"),
        ("销售总监", "influencer"),
    ],
    "ja": [
        ("代表取締役", "decision_maker"),
        ("購買部長", "influencer"),
        ("情報システム課長", "user"),
        ("経理部長", "decision_maker"),
        ("総務担当", "gatekeeper"),
        ("営業部長", "influencer"),
    ],
    "en": [
        ("CEO", "decision_maker"),
        ("Head of Procurement", "influencer"),
        ("IT Manager", "user"),
        ("CFO", "decision_maker"),
        ("Office Manager", "gatekeeper"),
        ("VP Sales", "influencer"),
    ],
}
CHANNELS = {"zh": ["wechat", "phone", "visit"], "ja": ["email", "phone", "line"], "en": ["email"]}
SOURCES = ["website", "trade show", "referral", "cold call", "partner", "advertising", "webinar"]
TAGS = {
    "zh": ["重点跟进", "渠道客户", "展会2026", "老客户推荐"],
    "ja": ["重点フォロー", "代理店経由", "展示会2026", "紹介"],
    "en": ["hot", "partner-led", "expo-2026", "referral"],
}
PRODUCTS = {
    "zh": ["CRM年度订阅", "生产线MES系统", "仓储管理系统", "销售培训服务", "数据平台升级"],
    "ja": [
        "CRM年間ライセンス",
        "生産管理システム導入",
        "在庫管理クラウド",
        "営業研修",
        "保守契約更新",
    ],
    "en": [
        "CRM annual licence",
        "Fleet telematics rollout",
        "Warehouse system",
        "Sales training",
        "Data platform upgrade",
    ],
}
# Amount ranges (in whole units, rounded to `step`) per currency.
AMOUNTS = {
    "CNY": (50_000, 2_000_000, 1_000),
    "JPY": (800_000, 40_000_000, 10_000),
    "USD": (8_000, 400_000, 500),
}
LOST_REASONS = [
    "Price too high",
    "Chose a competitor",
    "No budget this year",
    "Project postponed",
    "No support from the decision maker",
]
STANDARD_STAGES = [
    ("Qualification", 10, Stage.Kind.OPEN),
    ("Needs analysis", 30, Stage.Kind.OPEN),
    ("Proposal", 60, Stage.Kind.OPEN),
    ("Negotiation", 80, Stage.Kind.OPEN),
    ("Won", 100, Stage.Kind.WON),
    ("Lost", 0, Stage.Kind.LOST),
]
RENEWAL_STAGES = [
    ("Renewal due", 20, Stage.Kind.OPEN),
    ("Quote sent", 50, Stage.Kind.OPEN),
    ("Contract review", 80, Stage.Kind.OPEN),
    ("Renewed", 100, Stage.Kind.WON),
    ("Churned", 0, Stage.Kind.LOST),
]
PHONE_FORMATS = {
    "zh": lambda r: (
        f"+86 1{r.choice('3589')}{r.randint(0, 9)}-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"
    ),
    "ja": lambda r: (
        f"+81 {r.choice(['3', '6', '90', '80'])}-{r.randint(1000, 9999)}-{r.randint(1000, 9999)}"
    ),
    "en": lambda r: f"+1 ({r.randint(201, 989)}) 555-{r.randint(100, 199):04d}",
}
CHECK_IN = {
    "zh": ["{name}（前台签到）", "{name} 3号会议室", "{name} 工厂车间"],
    "ja": ["{name} 本社受付", "{name} 第2会議室", "{name} 工場"],
    "en": ["{name} HQ lobby", "{name} board room", "{name} plant"],
}
SUBJECTS = {
    Activity.Kind.CALL: [
        "Intro call",
        "Follow-up call on the proposal",
        "Pricing questions",
        "Check-in call",
    ],
    Activity.Kind.VISIT: ["On-site visit", "Plant tour and requirements", "Quarterly visit"],
    Activity.Kind.MEETING: [
        "Demo meeting",
        "Proposal review",
        "Contract negotiation",
        "Kick-off meeting",
    ],
    Activity.Kind.NOTE: [
        "Budget confirmed for next quarter",
        "Competitor also quoting",
        "Decision expected after board meeting",
    ],
    Activity.Kind.TASK: [
        "Send the proposal",
        "Prepare the quote",
        "Send the contract draft",
        "Book a demo",
        "Follow up on the invoice",
    ],
}


# --- seeding ----------------------------------------------------------------------------


@dataclass
class _Clock:
    """Times relative to one `now`, so a seed gives the same data on the same day."""

    now: datetime
    rng: random.Random

    @property
    def today(self) -> date:
        return timezone.localdate(self.now)

    def days_ago(self, low: float, high: float) -> datetime:
        return self.now - timedelta(days=self.rng.uniform(low, high))

    def working_time(self, day_offset: int) -> datetime:
        """A time between 9:00 and 17:30 on today + day_offset (local time)."""
        day = self.today + timedelta(days=day_offset)
        minutes = self.rng.randrange(9 * 60, 17 * 60 + 30, 15)
        naive = datetime.combine(day, time(minutes // 60, minutes % 60))
        return timezone.make_aware(naive)


@dataclass
class _Created:
    """Intended creation times, applied after the inserts (auto_now_add overrides them)."""

    at: dict[type, list[tuple[object, datetime]]] = field(default_factory=dict)

    def add(self, obj, when: datetime):
        self.at.setdefault(type(obj), []).append((obj, when))
        return obj

    def apply(self) -> None:
        for model, pairs in self.at.items():
            for obj, when in pairs:
                obj.created_at = obj.updated_at = when
            model.objects.bulk_update([obj for obj, _ in pairs], ["created_at", "updated_at"])


@transaction.atomic
def demo_crm_seed(*, seed: int = DEFAULT_SEED, now: datetime | None = None) -> dict[str, int]:
    """Fill the current company's schema with sample CRM records; returns counts.

    Owners are the company's sellers (managers and reps, by region: Chinese regions to
    the first team's sellers, Japanese to the second, North America to the admin);
    service agents are delivery / collections owners on deals.
    """
    rng = random.Random(seed)  # noqa: S311 - sample data, repeatable on purpose
    clock = _Clock(now=now or timezone.now(), rng=rng)
    created = _Created()
    users = list(User.objects.filter(is_active=True).order_by("id"))
    admin = next((u for u in users if u.role == Role.ADMIN), users[0])
    sellers = [u for u in users if u.role in (Role.MANAGER, Role.SALES_REP)] or [admin]
    service = [u for u in users if u.role == Role.SERVICE_AGENT] or [admin]
    owners_by_region = _owners_by_region(sellers, admin)

    regions = {name: Region(name=name) for name in REGIONS}
    Region.objects.bulk_create(regions.values())
    customers = _customers(rng, clock, created, regions, owners_by_region)
    contacts = _contacts(rng, clock, created, customers)
    pipelines = _pipelines()
    deals, changes = _deals(rng, clock, created, customers, contacts, pipelines, sellers, service)
    leads = _leads(rng, clock, created, regions, owners_by_region, deals)
    activities = _activities(rng, clock, created, customers, contacts, deals, leads)
    created.apply()
    _last_follow_ups(customers, leads, activities)

    pool_rules = PoolSettings.objects.order_by("id").first() or PoolSettings()
    pool_rules.return_after_days, pool_rules.warn_days_before = 30, 3
    pool_rules.reclaim_block_days, pool_rules.daily_claim_limit = 7, 20
    pool_rules.max_held, pool_rules.auto_return_enabled = 200, True
    pool_rules.save()
    rules = _assignment_rules(regions, owners_by_region)
    from customization.approvals.services import process_install_template  # it reads deals

    process_install_template(actor=admin, template="large_deal")  # beside "quote discount"
    workflow_rules = _workflow_rules(admin, pipelines)
    return {
        "regions": len(regions),
        "customers": len(customers),
        "contacts": len(contacts),
        "leads": len(leads),
        "pipelines": len(pipelines),
        "deals": len(deals),
        "stage_changes": changes,
        "activities": len(activities),
        "assignment_rules": rules,
        "approval_processes": 1,
        "workflow_rules": workflow_rules,
    }


def _workflow_rules(admin: User, pipelines) -> int:
    """A rule to watch working: a deal of a top-tier customer that enters Negotiation
    gets a review task for its owner's manager (move one on the board to see it)."""
    from customization.workflows.services import rule_create

    _pipeline, stages = pipelines["Standard sales"]
    negotiation = next(stage for stage in stages if stage.name == "Negotiation")
    rule_create(
        actor=admin,
        data={
            "entity": "deal",
            "name": "Manager review of key deals in negotiation",
            "description": "Top-tier (A) customers' deals get a second look before the offer.",
            "trigger": {"type": "stage_entered", "stage": negotiation.pk},
            "conditions": {"all": [{"field": "customer.value_tier", "op": "eq", "value": "A"}]},
            "actions": [
                {
                    "type": "create_task",
                    "subject": "Review the offer for {name}",
                    "assignee": "owner_manager",
                    "due_in_days": 2,
                    "priority": "high",
                }
            ],
        },
    )
    return 1


def _owners_by_region(sellers: list[User], admin: User) -> dict[str, list[User]]:
    teams: dict[int | None, list[User]] = {}
    for user in sellers:
        teams.setdefault(user.team_id, []).append(user)
    groups = list(teams.values())
    chinese = groups[0]
    japanese = groups[1] if len(groups) > 1 else groups[0]
    return {
        "华东": chinese,
        "华南": chinese[::-1],
        "関東": japanese,
        "関西": japanese[::-1],
        "North America": [admin],
    }


def _phone(rng: random.Random, locale: str) -> str:
    return PHONE_FORMATS[locale](rng)


def _birthday(rng: random.Random, today: date, *, is_today: bool) -> date:
    year = rng.choice([1972, 1980, 1984, 1988, 1992])  # leap years: 29 February exists
    if is_today:
        return today.replace(year=year)
    return date(year, rng.randint(1, 12), rng.randint(1, 28))


def _customers(rng, clock, created, regions, owners_by_region) -> list[Customer]:
    tiers = ["A", "B", "B", "C", "C", "C", "D", "D"]
    stages = ["potential", "target", "current", "current", "lost"]
    lifecycles = {
        "potential": "exploration",
        "target": "exploration",
        "current": "stability",
        "lost": "decline",
    }
    rows = [
        (name, domain, region, industry, Customer.Kind.COMPANY)
        for name, domain, region, industry in COMPANIES
    ]
    rows += [
        (name, roman, region, "", Customer.Kind.INDIVIDUAL) for name, roman, region in INDIVIDUALS
    ]
    customers = []
    for index, (name, slug, region, industry, kind) in enumerate(rows):
        locale, _currency, cities = REGIONS[region]
        city, line1, postcode, country = rng.choice(cities)
        stage = stages[index % len(stages)]
        lifecycle = "formation" if stage == "current" and index % 3 == 0 else lifecycles[stage]
        # A few companies are in the public pool (returned there automatically).
        in_pool = kind == Customer.Kind.COMPANY and index % 13 == 5
        owners = owners_by_region[region]
        owner = None if in_pool else owners[index % len(owners)]
        previous = owners[(index + 1) % len(owners)]
        email = f"info@{slug}" if kind == Customer.Kind.COMPANY else f"{slug}@mail.example.com"
        phone = _phone(rng, locale)
        customer = Customer(
            kind=kind,
            name=name,
            industry=industry,
            source=rng.choice(SOURCES),
            relationship_stage=stage,
            lifecycle_stage=lifecycle,
            value_tier=tiers[index % len(tiers)],
            is_key_account=index % 7 == 0,
            email=email,
            phone=phone,
            website=f"https://www.{slug}/" if kind == Customer.Kind.COMPANY else "",
            birthday=(
                _birthday(rng, clock.today, is_today=index % 3 == 0)
                if kind == Customer.Kind.INDIVIDUAL
                else None
            ),
            addresses=[
                {
                    "kind": "office",
                    "line1": line1,
                    "city": city,
                    "region": region,
                    "postcode": postcode,
                    "country": country,
                }
            ],
            tags=sorted(rng.sample(TAGS[locale], rng.randint(0, 2))),
            owner=owner,
            team_id=owner.team_id if owner else None,
            region=regions[region],
            created_by=owner or previous,
            pool_entered_at=clock.days_ago(2, 20) if in_pool else None,
            previous_owner=previous if in_pool else None,
            name_key=name_key(name),
            phone_key=phone_key(phone),
            search_text=search_text(name, email, phone),
        )
        if in_pool:
            customer.reclaim_blocked_until = customer.pool_entered_at + timedelta(days=7)
        customers.append(created.add(customer, clock.days_ago(70, 400)))
    Customer.objects.bulk_create(customers)
    PoolMove.objects.bulk_create(
        PoolMove(
            record_type="customer",
            record_id=c.pk,
            action=PoolMove.Action.AUTO_RETURN,
            from_user=c.previous_owner,
            reason="No follow-up for 30 days",
            at=c.pool_entered_at,
        )
        for c in customers
        if c.owner is None
    )
    return customers


def _locale(customer: Customer) -> str:
    return REGIONS[customer.addresses[0]["region"]][0]


def _contacts(rng, clock, created, customers) -> list[Contact]:
    contacts, used = [], set()
    birthdays_today = 0
    for customer in customers:
        if customer.kind == Customer.Kind.INDIVIDUAL:
            continue
        locale = _locale(customer)
        domain = customer.email.split("@", 1)[1]
        jobs = rng.sample(JOBS[locale], 3)
        for job_title, role in jobs[: rng.randint(2, 3)]:
            name, roman = rng.choice(PEOPLE[locale])
            while (customer.pk, name) in used:
                name, roman = rng.choice(PEOPLE[locale])
            used.add((customer.pk, name))
            is_today = birthdays_today < 4 and rng.random() < 0.06
            birthdays_today += is_today
            emails = [f"{roman}@{domain}"]
            phones = [_phone(rng, locale)]
            if rng.random() < 0.4:
                phones.append(_phone(rng, locale))
            if rng.random() < 0.2:
                emails.append(f"{roman.replace('.', '')}@mail.example.com")
            contact = Contact(
                customer=customer,
                name=name,
                job_title=job_title,
                decision_role=role,
                emails=emails,
                phones=phones,
                birthday=_birthday(rng, clock.today, is_today=is_today)
                if is_today or rng.random() < 0.7
                else None,
                preferred_channel=rng.choice(CHANNELS[locale]),
                owner=customer.owner,
                team_id=customer.team_id,
                region_id=customer.region_id,
                created_by=customer.created_by,
                name_key=name_key(name),
                search_text=search_text(name, emails, phones),
            )
            contacts.append(created.add(contact, clock.days_ago(40, 70)))
    if birthdays_today == 0 and contacts:  # at least one birthday today, whatever the seed
        contacts[1].birthday = _birthday(rng, clock.today, is_today=True)
    Contact.objects.bulk_create(contacts)
    return contacts


def _pipelines() -> dict[str, tuple[Pipeline, list[Stage]]]:
    result = {}
    for position, (name, spec) in enumerate(
        [("Standard sales", STANDARD_STAGES), ("Renewals", RENEWAL_STAGES)]
    ):
        pipeline = Pipeline.objects.create(name=name, is_default=position == 0, position=position)
        stages = Stage.objects.bulk_create(
            Stage(pipeline=pipeline, name=stage, position=index, probability=probability, kind=kind)
            for index, (stage, probability, kind) in enumerate(spec)
        )
        result[name] = (pipeline, stages)
    return result


def _amount(rng, currency: str) -> Decimal:
    low, high, step = AMOUNTS[currency]
    return Decimal(rng.randrange(low, high, step))


def _deals(rng, clock, created, customers, contacts, pipelines, sellers, service):
    """Deals in every stage of both pipelines, each with the stage path that led there."""
    owned = [c for c in customers if c.owner and c.relationship_stage != "lost"]
    current = [c for c in owned if c.relationship_stage == "current"]
    contacts_of: dict[int, list[Contact]] = {}
    for contact in contacts:
        contacts_of.setdefault(contact.customer_id, []).append(contact)
    plan = []  # (pipeline, stages, target stage index, customer)
    pipeline, stages = pipelines["Standard sales"]
    for index, count in enumerate([5, 5, 4, 4, 5, 4]):
        won = stages[index].kind == Stage.Kind.WON  # won deals made current customers
        plan += [
            (pipeline, stages, index, rng.choice(current if won else owned)) for _ in range(count)
        ]
    pipeline, stages = pipelines["Renewals"]
    for index, count in enumerate([3, 2, 2, 3, 2]):
        plan += [(pipeline, stages, index, rng.choice(current)) for _ in range(count)]

    deals, paths = [], []
    for pipeline, stages, target, customer in plan:
        stage = stages[target]
        open_stages = [s for s in stages if s.kind == Stage.Kind.OPEN]
        if stage.kind == Stage.Kind.OPEN:
            path = open_stages[: target + 1]
        elif stage.kind == Stage.Kind.WON:
            path = [*open_stages, stage]
        else:  # lost from somewhere along the way
            path = [*open_stages[: rng.randint(1, len(open_stages))], stage]
        # Walk back from the last move: recent for open deals, older for closed ones.
        entered = [
            clock.days_ago(0.5, 12) if stage.kind == Stage.Kind.OPEN else clock.days_ago(3, 45)
        ]
        for _ in path[1:]:
            entered.insert(0, entered[0] - timedelta(days=rng.uniform(2, 18)))
        locale = _locale(customer)
        currency = REGIONS[customer.addresses[0]["region"]][1]
        closed = stage.kind != Stage.Kind.OPEN
        people = contacts_of.get(customer.pk, [])
        short = customer.name if len(customer.name) <= 12 else customer.name[:12]
        owner = customer.owner
        deal = Deal(
            name=f"{short} · {rng.choice(PRODUCTS[locale])}",
            customer=customer,
            contact=rng.choice(people) if people else None,
            pipeline=pipeline,
            stage=stage,
            amount=_amount(rng, currency),
            currency=currency,
            expected_close_date=(
                timezone.localdate(entered[-1])
                if closed
                else clock.today + timedelta(days=rng.randint(-5, 120))
            ),
            lost_reason=rng.choice(LOST_REASONS) if stage.kind == Stage.Kind.LOST else "",
            stage_entered_at=entered[-1],
            closed_at=entered[-1] if closed else None,
            finder=rng.choice(sellers),
            delivery_owner=rng.choice(service) if stage.kind == Stage.Kind.WON else None,
            collections_owner=owner if stage.kind == Stage.Kind.WON else None,
            owner=owner,
            team_id=owner.team_id,
            region_id=customer.region_id,
            created_by=owner,
        )
        deals.append(created.add(deal, entered[0]))
        paths.append((deal, path, entered))
    Deal.objects.bulk_create(deals)

    changes, history = [], []
    for deal, path, entered in paths:
        previous = None
        for stage, at in zip(path, entered, strict=True):
            changes.append(
                DealStageChange(
                    deal=deal,
                    from_stage=previous[0] if previous else None,
                    to_stage=stage,
                    changed_at=at,
                    changed_by=deal.owner,
                    seconds_in_previous=int((at - previous[1]).total_seconds())
                    if previous
                    else None,
                )
            )
            if previous:
                history.append(
                    FieldChange(
                        record_type="deal",
                        record_id=deal.pk,
                        field="stage",
                        old_value=str(previous[0].pk),
                        new_value=str(stage.pk),
                        changed_by=deal.owner,
                        changed_at=at,
                    )
                )
            previous = (stage, at)
    DealStageChange.objects.bulk_create(changes)
    FieldChange.objects.bulk_create(history)
    return deals, len(changes)


def _leads(rng, clock, created, regions, owners_by_region, deals):
    """~40 leads: every status, MAN flags, purchase windows; ten in the public pool;
    four converted into a customer, contact and deal of the sample data."""
    statuses = ["new", "new", "contacted", "contacted", "qualified", "unqualified"]
    windows = ["now", "3m", "6m", "12m", ""]
    region_names = list(REGIONS)
    first_stage_deals = [
        d for d in deals if d.pipeline.is_default and d.stage.position <= 1 and d.contact
    ]
    leads = []
    for index in range(40):
        region = region_names[index % len(region_names)]
        locale = REGIONS[region][0]
        name, roman = PEOPLE[locale][(index * 7) % len(PEOPLE[locale])]
        company_name, domain = PROSPECTS[locale][(index * 3) % len(PROSPECTS[locale])]
        job_title, _role = rng.choice(JOBS[locale])
        status = statuses[index % len(statuses)]
        in_pool = index % 4 == 1  # ten leads
        owners = owners_by_region[region]
        owner = None if in_pool else owners[index % len(owners)]
        previous = owners[(index + 1) % len(owners)]
        qualified = status == "qualified"
        email = f"{roman}@{domain}"
        phone = _phone(rng, locale)
        lead = Lead(
            name=name,
            company_name=company_name,
            job_title=job_title,
            email=email,
            phone=phone,
            source=rng.choice(SOURCES),
            status="new" if in_pool and status == "qualified" else status,
            has_money=qualified or rng.random() < 0.3,
            has_authority=qualified or rng.random() < 0.3,
            has_need=qualified or status == "contacted" or rng.random() < 0.4,
            purchase_window=windows[index % len(windows)],
            owner=owner,
            team_id=owner.team_id if owner else None,
            region=regions[region],
            created_by=owner or previous,
            pool_entered_at=clock.days_ago(1, 25) if in_pool else None,
            previous_owner=previous if in_pool and index % 8 == 1 else None,
            name_key=name_key(name),
            phone_key=phone_key(phone),
            search_text=search_text(name, company_name, email, phone),
        )
        if lead.previous_owner:
            lead.reclaim_blocked_until = lead.pool_entered_at + timedelta(days=7)
        leads.append(created.add(lead, clock.days_ago(30, 90)))

    for lead, deal in zip(leads[::10], first_stage_deals, strict=False):
        contact = deal.contact
        lead.status = Lead.Status.CONVERTED
        lead.name, lead.company_name = contact.name, deal.customer.name
        lead.email, lead.phone = contact.emails[0], contact.phones[0]
        lead.has_money = lead.has_authority = lead.has_need = True
        lead.owner, lead.team_id = deal.owner, deal.team_id
        lead.pool_entered_at = lead.previous_owner = lead.reclaim_blocked_until = None
        lead.region_id = deal.region_id
        lead.converted_at = min(clock.now, deal.stage_entered_at)
        lead.converted_customer, lead.converted_contact, lead.converted_deal = (
            deal.customer,
            contact,
            deal,
        )
        lead.name_key, lead.phone_key = name_key(lead.name), phone_key(lead.phone)
        lead.search_text = search_text(lead.name, lead.company_name, lead.email, lead.phone)
    Lead.objects.bulk_create(leads)
    PoolMove.objects.bulk_create(
        PoolMove(
            record_type="lead",
            record_id=lead.pk,
            action=PoolMove.Action.RELEASE if lead.previous_owner else PoolMove.Action.ASSIGN,
            from_user=lead.previous_owner,
            actor=lead.previous_owner or lead.created_by,
            reason="Not reachable" if lead.previous_owner else "Web form, unassigned",
            at=lead.pool_entered_at,
        )
        for lead in leads
        if lead.owner is None
    )
    return leads


def _activities(rng, clock, created, customers, contacts, deals, leads) -> list[Activity]:
    """Done calls, visits, meetings and notes over the last 60 days; planned meetings and
    tasks over the next 30; some tasks overdue."""
    contacts_of: dict[int, list[Contact]] = {}
    for contact in contacts:
        contacts_of.setdefault(contact.customer_id, []).append(contact)
    open_deals: dict[int, list[Deal]] = {}
    for deal in deals:
        if deal.closed_at is None:
            open_deals.setdefault(deal.customer_id, []).append(deal)
    activities = []

    def add(kind, *, owner, customer=None, lead=None, day: int, done: bool, place=""):
        at = clock.working_time(day)
        people = contacts_of.get(customer.pk, []) if customer else []
        deal = (
            rng.choice(open_deals[customer.pk]) if customer and customer.pk in open_deals else None
        )
        activity = Activity(
            kind=kind,
            subject=rng.choice(SUBJECTS[kind]),
            assignee=owner,
            created_by=owner,
            priority=rng.choice(["low", "normal", "normal", "high"]),
            customer=customer,
            contact=rng.choice(people) if people else None,
            lead=lead,
            deal=deal,
            check_in_place=place,
        )
        if kind == Activity.Kind.TASK:
            activity.due_at = at
            activity.done_at = at - timedelta(hours=rng.randint(1, 30)) if done else None
        elif kind in (Activity.Kind.MEETING, Activity.Kind.VISIT, Activity.Kind.CALL):
            minutes = 15 if kind == Activity.Kind.CALL else rng.choice([60, 90, 120])
            activity.starts_at = at
            activity.ends_at = at + timedelta(minutes=minutes)
            activity.done_at = activity.ends_at if done else None
        else:
            activity.done_at = at
        when = at if day <= 0 else clock.now - timedelta(days=rng.uniform(0, 5))
        activities.append(created.add(activity, min(when, clock.now)))

    kinds = [
        Activity.Kind.CALL,
        Activity.Kind.CALL,
        Activity.Kind.VISIT,
        Activity.Kind.MEETING,
        Activity.Kind.NOTE,
    ]
    for index, customer in enumerate(customers):
        owner = customer.owner
        if owner is None:
            continue
        locale = _locale(customer)
        # A few customers have gone quiet for ~4 weeks: their pool-return warning is due.
        quiet = index % 11 == 3
        for _ in range(rng.randint(1, 4)):
            kind = rng.choice(kinds)
            day = -rng.randint(26, 29) if quiet else -rng.randint(0, 60)
            place = (
                rng.choice(CHECK_IN[locale]).format(name=customer.name)
                if kind == Activity.Kind.VISIT
                else ""
            )
            add(kind, owner=owner, customer=customer, day=day, done=True, place=place)
        if not quiet:
            if rng.random() < 0.5:
                add(
                    Activity.Kind.MEETING,
                    owner=owner,
                    customer=customer,
                    day=rng.randint(1, 30),
                    done=False,
                )
            day = rng.randint(-10, 30)
            add(
                Activity.Kind.TASK,
                owner=owner,
                customer=customer,
                day=day,
                done=day < 0 and rng.random() < 0.5,
            )
    for lead in leads:
        if lead.owner is None or lead.status == Lead.Status.CONVERTED:
            continue
        add(Activity.Kind.CALL, owner=lead.owner, lead=lead, day=-rng.randint(0, 30), done=True)
        if lead.status in (Lead.Status.NEW, Lead.Status.CONTACTED):
            add(
                Activity.Kind.TASK, owner=lead.owner, lead=lead, day=rng.randint(-3, 10), done=False
            )
    Activity.objects.bulk_create(activities)
    return activities


def _last_follow_ups(customers, leads, activities) -> None:
    """last_activity_at as the activity service keeps it: when the latest follow-up (call,
    meeting, visit, note) on the customer or lead was logged. Pool records without one
    keep the date that sent them back to the pool."""
    latest: dict[tuple[type, int], datetime] = {}
    for activity in activities:
        if activity.kind == Activity.Kind.TASK:
            continue
        for key in ((Customer, activity.customer_id), (Lead, activity.lead_id)):
            if key[1] and (key not in latest or activity.created_at > latest[key]):
                latest[key] = activity.created_at
    for model, records in ((Customer, customers), (Lead, leads)):
        changed = []
        for record in records:
            at = latest.get((model, record.pk))
            if at is None and record.pool_entered_at:
                at = record.pool_entered_at - timedelta(days=30)
            if at is not None:
                record.last_activity_at = at
                changed.append(record)
        model.objects.bulk_update(changed, ["last_activity_at"])


def _assignment_rules(regions, owners_by_region) -> int:
    """Round-robin rules for new leads: by region where a team covers it, capped."""
    rules = []
    for position, region in enumerate(["华东", "华南", "関東", "関西"]):
        team_id = owners_by_region[region][0].team_id
        if team_id is None:
            continue
        rules.append(
            AssignmentRule(
                name=f"{region} leads",
                entity=AssignmentRule.Entity.LEAD,
                region=regions[region],
                team_id=team_id,
                capacity=50,
                position=position,
            )
        )
    AssignmentRule.objects.bulk_create(rules)
    return len(rules)
