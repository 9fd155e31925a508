"""Word lists for the demo: people's names, cities, phone number plans and message texts.

Plain data, no logic. Chinese names come with their pinyin (mainland) or Cantonese
romanization (Hong Kong) so e-mail addresses can be built from them.
"""

from __future__ import annotations

from dataclasses import dataclass

# Family names, weighted roughly by how common they are.
CN_FAMILY: tuple[tuple[str, str, int], ...] = (
    ("王", "wang", 7), ("李", "li", 7), ("张", "zhang", 6), ("刘", "liu", 5),
    ("陈", "chen", 5), ("杨", "yang", 3), ("黄", "huang", 2), ("赵", "zhao", 2),
    ("吴", "wu", 2), ("周", "zhou", 2), ("徐", "xu", 1), ("孙", "sun", 1),
    ("马", "ma", 1), ("朱", "zhu", 1), ("胡", "hu", 1), ("郭", "guo", 1),
    ("何", "he", 1), ("高", "gao", 1), ("林", "lin", 1), ("罗", "luo", 1),
    ("郑", "zheng", 1), ("梁", "liang", 1), ("谢", "xie", 1), ("宋", "song", 1),
    ("唐", "tang", 1), ("韩", "han", 1), ("冯", "feng", 1), ("邓", "deng", 1),
    ("曹", "cao", 1), ("彭", "peng", 1),
)  # fmt: skip

CN_GIVEN: tuple[tuple[str, str], ...] = (
    ("小明", "xiaoming"), ("秀英", "xiuying"), ("建华", "jianhua"), ("丽娜", "lina"),
    ("志强", "zhiqiang"), ("伟", "wei"), ("芳", "fang"), ("敏", "min"), ("静", "jing"),
    ("磊", "lei"), ("军", "jun"), ("洋", "yang"), ("勇", "yong"), ("艳", "yan"),
    ("杰", "jie"), ("娟", "juan"), ("涛", "tao"), ("超", "chao"), ("秀兰", "xiulan"),
    ("霞", "xia"), ("桂英", "guiying"), ("浩然", "haoran"), ("子涵", "zihan"),
    ("欣怡", "xinyi"), ("宇轩", "yuxuan"), ("梓萱", "zixuan"), ("思远", "siyuan"),
    ("雨婷", "yuting"), ("佳琪", "jiaqi"), ("俊杰", "junjie"), ("晓东", "xiaodong"),
    ("海燕", "haiyan"), ("文博", "wenbo"), ("嘉怡", "jiayi"), ("国强", "guoqiang"),
    ("春梅", "chunmei"), ("立新", "lixin"), ("婉清", "wanqing"), ("一鸣", "yiming"),
    ("红梅", "hongmei"), ("振华", "zhenhua"), ("美玲", "meiling"), ("鹏飞", "pengfei"),
    ("晓燕", "xiaoyan"), ("建国", "jianguo"),
)  # fmt: skip

HK_FAMILY: tuple[tuple[str, str], ...] = (
    ("陳", "chan"), ("黃", "wong"), ("李", "lee"), ("張", "cheung"), ("劉", "lau"),
    ("梁", "leung"), ("林", "lam"), ("何", "ho"), ("郭", "kwok"), ("吳", "ng"),
    ("鄭", "cheng"), ("麥", "mak"),
)  # fmt: skip

HK_GIVEN: tuple[tuple[str, str], ...] = (
    ("嘉欣", "kayan"), ("家豪", "kaho"), ("志偉", "chiwai"), ("美玲", "meiling"),
    ("俊傑", "chunkit"), ("詠詩", "wingsze"), ("偉明", "waiming"), ("淑儀", "shukyi"),
    ("子軒", "tszhin"), ("曉彤", "hiutung"), ("頌恩", "chungyan"), ("浩文", "houman"),
)  # fmt: skip

CN_CITIES: tuple[str, ...] = (
    "上海", "北京", "广州", "深圳", "杭州", "成都", "南京", "武汉", "苏州", "西安",
    "天津", "重庆",
)  # fmt: skip
HK_DISTRICTS: tuple[str, ...] = ("中環", "銅鑼灣", "九龍塘", "沙田", "將軍澳", "荃灣")


@dataclass(frozen=True, slots=True)
class Origin:
    """Where an international customer comes from: names, language, phones, mail."""

    key: str
    country: str  # ISO 3166 region of their phones
    language: str  # BCP 47
    first: tuple[str, ...]
    last: tuple[str, ...]
    cities: tuple[str, ...]
    mail_domains: tuple[str, ...]
    full_names: tuple[str, ...] = ()  # used instead of first/last when set


_EN_FIRST = (
    "James", "Olivia", "Michael", "Emily", "Daniel", "Sarah", "David", "Jessica", "Matthew",
    "Ashley", "Ryan", "Hannah", "Andrew", "Lauren", "Kevin", "Rachel", "Brian", "Megan",
)  # fmt: skip
_EN_LAST = (
    "Smith", "Johnson", "Brown", "Miller", "Davis", "Anderson", "Taylor", "Thomas", "Moore",
    "Clark", "Lewis", "Walker", "Hall", "Young", "King", "Wright", "Scott", "Carter",
)  # fmt: skip
_US_MAIL = ("gmail.com", "outlook.com", "yahoo.com", "icloud.com")

ORIGINS: dict[str, Origin] = {
    "us": Origin(
        "us", "US", "en-US", _EN_FIRST, _EN_LAST,
        ("New York", "San Francisco", "Los Angeles", "Seattle", "Chicago", "Boston", "Austin"),
        _US_MAIL,
    ),
    "us_es": Origin(
        "us_es", "US", "en-US",
        ("Sofía", "Mateo", "Valentina", "Santiago", "Camila", "Diego", "Lucía", "Javier"),
        ("García", "Martínez", "Rodríguez", "López", "Hernández", "González", "Pérez", "Torres"),
        ("Los Angeles", "Miami", "Austin", "New York"),
        _US_MAIL,
    ),
    "gb": Origin(
        "gb", "GB", "en-GB",
        ("Oliver", "Amelia", "George", "Isla", "Harry", "Sophie", "Jack", "Charlotte", "William"),
        ("Hughes", "Evans", "Roberts", "Wood", "Thompson", "Walsh", "Edwards", "Turner", "Bennett"),
        ("London", "Manchester", "Edinburgh", "Bristol"),
        ("gmail.com", "btinternet.com", "outlook.com", "sky.com"),
    ),
    "de": Origin(
        "de", "DE", "de-DE",
        ("Lukas", "Anna", "Felix", "Lena", "Jonas", "Marie", "Maximilian", "Leon", "Johanna"),
        ("Müller", "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Schäfer"),
        ("Berlin", "München", "Hamburg", "Frankfurt am Main"),
        ("gmx.de", "web.de", "t-online.de", "gmail.com"),
    ),
    "in": Origin(
        "in", "IN", "en-IN",
        ("Aarav", "Priya", "Rohan", "Ananya", "Vikram", "Sneha", "Arjun", "Kavya", "Rahul"),
        ("Sharma", "Patel", "Gupta", "Singh", "Reddy", "Iyer", "Nair", "Mehta", "Joshi", "Rao"),
        ("Mumbai", "Bengaluru", "Delhi", "Chennai", "Pune"),
        ("gmail.com", "rediffmail.com", "yahoo.co.in", "outlook.com"),
    ),
    "jp": Origin(
        "jp", "JP", "ja-JP",
        ("Haruto", "Yui", "Sota", "Hina", "Yuto", "Aoi", "Ren", "Sakura", "Kaito", "Mei"),
        ("Sato", "Suzuki", "Takahashi", "Tanaka", "Watanabe", "Ito", "Yamamoto", "Nakamura"),
        ("Tokyo", "Osaka", "Yokohama"),
        ("gmail.com", "yahoo.co.jp", "docomo.ne.jp"),
    ),
    "sg": Origin(
        "sg", "SG", "en-SG", (), (),
        ("Singapore",),
        ("gmail.com", "singnet.com.sg", "hotmail.com"),
        full_names=(
            "Tan Wei Ling", "Lim Jun Hao", "Ng Hui Min", "Marcus Ong", "Rachel Goh",
            "Nurul Aisyah", "Muhammad Farhan", "Deepa Krishnan", "Benjamin Koh",
            "Charmaine Teo", "Chua Kai Xiang", "Wong Mei Xin", "Ravi Chandran",
        ),
    ),
}  # fmt: skip

# How many of the 200 customers come from where (mainland China and Hong Kong first).
ORIGIN_QUOTAS: tuple[tuple[str, int], ...] = (
    ("cn", 105), ("hk", 15),
    ("us", 24), ("us_es", 6), ("gb", 12), ("de", 10), ("in", 12), ("jp", 8), ("sg", 8),
)  # fmt: skip

CN_MAIL = ("163.com", "126.com", "qq.com", "sina.com", "foxmail.com", "139.com")
HK_MAIL = ("gmail.com", "yahoo.com.hk", "netvigator.com", "hotmail.com")

# Companies of "enterprise" customers: (name, mail domain). All fictional.
CN_COMPANIES: tuple[tuple[str, str], ...] = (
    ("上海云帆科技有限公司", "yunfan-tech.example.cn"),
    ("北京星河数据有限公司", "xinghe-data.example.cn"),
    ("深圳华信电子有限公司", "huaxin-elec.example.cn"),
    ("杭州青禾贸易有限公司", "qinghe-trade.example.cn"),
    ("广州南粤物流有限公司", "nanyue-logistics.example.cn"),
    ("香港德信國際有限公司", "dexin-intl.example.hk"),
)
INTL_COMPANIES: tuple[tuple[str, str], ...] = (
    ("Northwind Traders", "northwind.example.com"),
    ("Contoso Ltd", "contoso.example.com"),
    ("Fabrikam GmbH", "fabrikam.example.de"),
    ("Tailspin Logistics", "tailspin.example.co.uk"),
    ("Adventure Works", "adventure-works.example.com"),
)

# --- Phone number plans ---------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NumberPlan:
    """Numbers ``+<cc> <prefix><rest>``: ``rest`` random digits after one of ``prefixes``."""

    cc: str
    prefixes: tuple[str, ...]
    rest: int


MOBILE_PLANS: dict[str, NumberPlan] = {
    "CN": NumberPlan(
        "86",
        ("130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152",
         "155", "156", "157", "158", "159", "176", "177", "178", "180", "181", "182", "183",
         "185", "186", "187", "188", "189", "191", "198", "199"),
        8,
    ),
    "HK": NumberPlan("852", ("51", "53", "54", "55", "59", "61", "62", "63", "64", "66",
                             "67", "68", "69", "90", "91", "92", "93", "94", "96", "97", "98"), 6),
    "GB": NumberPlan("44", ("7400", "7401", "7450", "7507", "7701", "7752", "7807",
                            "7824", "7858", "7912", "7956", "7983"), 6),
    "DE": NumberPlan("49", ("1512", "1520", "1573", "1590", "160", "162", "170", "171", "172",
                            "175", "176", "177", "179"), 7),
    "JP": NumberPlan("81", ("70", "80", "90"), 8),
    "IN": NumberPlan("91", ("98", "97", "96", "94", "93", "91", "88", "87", "85", "81", "79",
                            "78", "75", "70", "63"), 8),
    "SG": NumberPlan("65", ("81", "82", "83", "87", "88", "90", "91", "92", "93", "96", "97",
                            "98"), 6),
}  # fmt: skip

# Fixed lines by city. US numbers have no separate mobile ranges: everyone gets these.
LANDLINE_PLANS: dict[str, NumberPlan] = {
    "北京": NumberPlan("86", ("105", "106", "108"), 7),
    "上海": NumberPlan("86", ("215", "216"), 7),
    "中環": NumberPlan("852", ("25", "28"), 6),
    "九龍塘": NumberPlan("852", ("23", "27"), 6),
    "沙田": NumberPlan("852", ("26",), 6),
    "New York": NumberPlan("1", ("212", "646", "718", "917"), 7),
    "San Francisco": NumberPlan("1", ("415", "628"), 7),
    "Los Angeles": NumberPlan("1", ("213", "310", "323"), 7),
    "Seattle": NumberPlan("1", ("206",), 7),
    "Chicago": NumberPlan("1", ("312", "773"), 7),
    "Boston": NumberPlan("1", ("617",), 7),
    "Austin": NumberPlan("1", ("512", "737"), 7),
    "Miami": NumberPlan("1", ("305", "786"), 7),
    "London": NumberPlan("44", ("203", "207", "208"), 7),
    "Manchester": NumberPlan("44", ("161",), 7),
    "Edinburgh": NumberPlan("44", ("131",), 7),
    "Bristol": NumberPlan("44", ("117",), 7),
    "Berlin": NumberPlan("49", ("30",), 8),
    "München": NumberPlan("49", ("89",), 8),
    "Hamburg": NumberPlan("49", ("40",), 8),
    "Frankfurt am Main": NumberPlan("49", ("69",), 8),
    "Tokyo": NumberPlan("81", ("3",), 8),
    "Osaka": NumberPlan("81", ("6",), 8),
    "Yokohama": NumberPlan("81", ("45",), 7),
    "Mumbai": NumberPlan("91", ("22",), 8),
    "Bengaluru": NumberPlan("91", ("80",), 8),
    "Delhi": NumberPlan("91", ("11",), 8),
    "Chennai": NumberPlan("91", ("44",), 8),
    "Pune": NumberPlan("91", ("20",), 8),
    "Singapore": NumberPlan("65", ("61", "62", "63", "64", "65", "66", "67"), 6),
}

# Ranges reserved for films and TV, which phonenumbers may still call valid.
FICTIONAL_PREFIXES: tuple[str, ...] = (
    "+442079460", "+447700900", "+441614960", "+441314960", "+441174960",
    "+443069990", "+448081570", "+449098790",
)  # fmt: skip

# --- Message texts ----------------------------------------------------------------------
# ``{order}`` is replaced by an order number.

EMAIL_SUBJECTS: dict[str, dict[str, tuple[str, ...]]] = {
    "support": {
        "zh": (
            "订单 #{order} 还没有发货",
            "App 登录不了",
            "收到的商品有破损，怎么处理？",
            "路由器总是断网",
            "退货流程咨询",
            "账号被锁定，请帮忙解锁",
            "订单 #{order} 物流信息一直没有更新",
        ),
        "zh-HK": ("訂單 #{order} 仲未發貨", "App 登入唔到", "點樣辦理退貨？"),
        "en": (
            "Order #{order} hasn't shipped yet",
            "Cannot log in to the app",
            "Item arrived damaged",
            "Router keeps disconnecting",
            "How do I return an item?",
            "Password reset email never arrives",
        ),
    },
    "billing": {
        "zh": (
            "发票问题 / Invoice question",
            "订单 #{order} 重复扣款",
            "申请开具增值税专用发票",
            "退款什么时候到账？",
            "账单金额不对",
            "修改发票抬头",
        ),
        "zh-HK": ("發票問題 / Invoice question", "訂單 #{order} 重複扣款", "退款幾時到賬？"),
        "en": (
            "Invoice question",
            "Charged twice for order #{order}",
            "Refund status for order #{order}",
            "Update my billing address",
            "Question about my latest statement",
        ),
    },
    "sales": {
        "zh": (
            "企业采购报价咨询",
            "批量订购 200 台有优惠吗？",
            "想了解年度会员方案",
            "门店合作咨询",
            "报价单 / Quotation request",
        ),
        "zh-HK": ("企業採購報價查詢", "想了解年費會員計劃"),
        "en": (
            "Request for a quote",
            "Bulk order pricing (200 units)",
            "Upgrade to the business plan",
            "Partnership enquiry",
        ),
    },
}

CHAT_EXCERPTS: dict[str, tuple[str, ...]] = {
    "zh-CN": (
        "客户：我的订单显示已签收，但我没有收到。",
        "客户：请问可以开发票吗？",
        "客户：优惠券为什么用不了？",
        "客户：我想改一下收货地址。",
        "客户：会员积分怎么兑换？",
        "客户：退款已经申请一周了，还没到账。",
        "客户：你们的企业版支持多少个账号？",
    ),
    "zh-HK": (
        "客戶：我張單幾時會送到？",
        "客戶：點樣改送貨地址？",
        "客戶：我想查詢退款進度。",
        "客戶：VIP 會員有咩優惠？",
    ),
    "en": (
        "Customer: My order says delivered but I never got it.",
        "Customer: Can I change the delivery address?",
        "Customer: The discount code isn't working.",
        "Customer: How do I upgrade my plan?",
        "Customer: I was charged twice this month.",
    ),
}

NOTES: dict[str, tuple[str, ...]] = {
    "callback_promised": ("客户要求下周回电", "约定明天下午 3 点回电", "Call back on Monday"),
    "complaint": ("客户对处理时长不满意", "已升级至二线支持", "Unhappy with delivery time"),
    "follow_up_needed": (
        "等待仓库确认库存",
        "已发送退款确认邮件",
        "Waiting for the courier's report",
    ),
    "sale": ("客户同意续约一年", "已发送报价单", "Upgraded to the business plan"),
    "resolved": ("已远程协助解决", "Walked the customer through the reset"),
}

PAGE_URLS: tuple[str, ...] = (
    "https://shop.example.cn/orders",
    "https://shop.example.cn/help/returns",
    "https://shop.example.cn/pricing",
    "https://shop.example.cn/account/billing",
)
