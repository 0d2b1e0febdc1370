"""The offline engine's own words: what is not a name in the catalog. Data only.

Function words carry no meaning of their own (removing one never changes the SQL); cue words
carry a reading (aggregate, ranking, share, comparison, breakdown, never, first/last ...) and are
recognised by `cues`. A word in neither list, and not a name the catalog knows, is refused.
"""

from __future__ import annotations

FUNCTION_EN = frozenset("""
a an the of in on at for to from with and or is are was were be been being am what which who whom whose how
show shows showing me list listing give tell get gets got getting find display please i we our ours us my you your
do does did done doing have has had having there their theirs it its this that these those as into than then so
also can could would will should shall may might must let lets see look want need know s d re ve m ll
overall currently ever actually exactly roughly about under within among right now here whole
through via using
take took taken bring brought come came make made place placed generate generated earn earned receive received
record recorded happen happened go went achieve achieved given give
charged charge paid billed incurred hit reach reached
thing things figure figures info information stats statistics report summary one
""".split())

# whole phrases about the data itself: "in the catalog", "in our database" (no table of that name)
META_EN = ("catalog", "catalogue", "database", "db", "dataset", "system", "records", "data")
META_PREFIX = r"(?:in|on|from|of|across|inside)\s+(?:the|our|this|my|your)?\s*"

FUNCTION_ZH = (
    "请问", "请", "帮我", "给我", "告诉我", "我们的", "我们", "我的", "你们", "一下", "一共", "总共", "合计", "共",
    "是多少", "有多少", "分别是", "分别", "是什么", "是哪些", "是哪个", "哪些", "哪个", "哪一个", "哪", "什么",
    "多少", "几", "列出", "显示", "查看", "看看", "看下", "统计", "查询", "计算", "展示", "看", "查",
    "的", "了", "是", "在", "和", "与", "及", "以及", "或", "吗", "呢", "吧", "啊", "呀", "有", "个", "位", "款",
    "家", "种", "笔", "次", "名", "件", "过", "被", "把", "将", "为", "对", "于", "中", "里", "内", "上的", "之",
    "所有的", "整体", "情况", "数据", "一共有", "都", "各自", "目前", "当前", "现在", "一", "这些", "那些", "其中",
    "来自", "来源于", "带来", "贡献", "产生", "获得", "得到", "实现", "类", "端", "可以", "能否", "能不能", "能",
)

# cue words (recognised by cues.py; listed here so messages and tests can name them)
AGG_EN = {"total": "sum", "sum": "sum", "average": "avg", "avg": "avg", "mean": "avg", "median": "median",
          "maximum": "max", "max": "max", "minimum": "min", "min": "min"}
AGG_ZH = {"平均": "avg", "均值": "avg", "中位数": "median", "最大值": "max", "最小值": "min", "总计": "sum",
          "总和": "sum", "总额": "sum", "总": "sum"}
COUNT_EN = r"how\s+many|number\s+of|count\s+of|count|no\.\s+of|#\s*of|total\s+number\s+of|the\s+number\s+of"
COUNT_ZH_AFTER = ("数量", "个数", "数目", "总数", "人数", "数")  # right after the thing counted: 客户数量
COUNT_ZH = ("多少个", "多少种", "多少位", "多少家", "多少", "几个", "几种", "几")
DISTINCT_EN = ("distinct", "unique", "different", "separate")
DISTINCT_ZH = ("不同的", "不同", "不重复的", "不重复")

RANK_DESC_EN = ("top", "highest", "most", "largest", "biggest", "greatest", "best", "leading")
RANK_ASC_EN = ("bottom", "lowest", "least", "smallest", "fewest", "worst", "weakest")
POLAR = {"best": "good", "worst": "bad", "weakest": "bad", "strongest": "good", "leading": "good",
         "top": "desc", "bottom": "asc"}
RANK_FILLER = ("popular", "performing", "selling", "sellers", "seller", "performers", "performer", "valuable",
               "profitable", "successful", "active")  # "least popular category", "best selling products"
PRICE_DESC = ("expensive", "priciest", "pricey", "costliest", "costly", "premium")
PRICE_ASC = ("cheapest", "cheap", "cheaper", "inexpensive", "affordable")

# a money metric that means margin or profit: its percentage is its share of revenue
MARGIN_WORDS = ("margin", "profit", "毛利", "利润")
REVENUE_WORDS = ("revenue", "sales", "net sales", "turnover", "销售额", "收入", "营收")
# metrics and columns where more is worse: "worst" ranks them highest first
NEGATIVE_WORDS = ("return", "cancel", "refund", "churn", "cost", "spend", "discount", "shipping", "complaint",
                  "defect", "delay", "expense", "loss", "退货", "取消", "成本", "费用", "折扣", "运费")
# amount-like numeric columns that read as a sum with no aggregate word ("spend by channel")
ADDITIVE_WORDS = ("spend", "spent", "cost", "amount", "revenue", "sales", "quantity", "qty", "units", "total",
                  "fee", "charge", "profit", "income", "value", "花费", "金额", "成本", "数量")

# verbs that point at the fact table ("customers who ordered", "products sold this week")
FACT_VERBS_EN = {"order": "order", "ordered": "order", "ordering": "order", "purchase": "purchase",
                 "purchased": "purchase", "buy": "purchase", "bought": "purchase", "buying": "purchase",
                 "sell": "sale", "sold": "sale", "selling": "sale", "shop": "order", "shopped": "order"}
FACT_NOUNS = ("order", "purchase", "sale", "sales", "transaction")
FACT_VERBS_ZH = ("下过单", "下单", "订购", "购买", "购买过", "买过", "买", "售出", "卖出", "卖过", "卖", "销售", "成交")
FACT_NOUNS_ZH = ("订单", "销售额", "交易")

NEVER_EN = r"never|haven't|hasn't|didn't|don't|doesn't|have\s+not|has\s+not|did\s+not|do\s+not|does\s+not|not\s+yet"
NEVER_ZH = ("从来没有", "从未", "从没", "没有", "没", "未曾", "未")
NUMBER_WORDS = {"one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8, "nine": 9,
                "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15, "twenty": 20, "fifty": 50, "hundred": 100,
                "a dozen": 12, "dozen": 12}

GRAINS_EN = {"day": "day", "daily": "day", "date": "day", "week": "week", "weekly": "week", "month": "month",
             "monthly": "month", "quarter": "quarter", "quarterly": "quarter", "year": "year", "yearly": "year",
             "annual": "year", "annually": "year"}
GRAINS_ZH = {"天": "day", "日": "day", "周": "week", "星期": "week", "月": "month", "季度": "quarter", "季": "quarter",
             "年": "year", "年度": "year", "月度": "month"}
