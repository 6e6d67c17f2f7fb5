"""Synthetic post sources in the site's real formats, for scale tests and benchmarks.

Three formats, as in the fixture corpus: early emnews (digest, Eastmoney
autolink, two relative back links), later emnews (``> digest``, article HTML
with a stock widget, autolink, one-line back links) and media posts (article
HTML, share link, back link to the category page).
"""

from __future__ import annotations

import random
from datetime import datetime, timedelta
from pathlib import Path

from finews.dates import CST

MEDIA = [
    ("huaxiashibao", "华夏时报"),
    ("zhongguozhengquanbao", "中国证券报"),
    ("TechWeb", "中国网科技"),
    ("Techweb", "大江网"),
    ("anxinguojizhengquan(xianggang)", "中国商报网"),
    ("jingjiguanchabao", "经济观察报"),
    ("diyicaijing", "第一财经"),
    ("21caijing", "湖南日报"),
]
SENTENCES = [
    "离岸人民币兑美元升至2018年以来最高水平",
    "北京银行持续加强和完善普惠金融体制机制建设",
    "三大指数集体走高，其中创业板指大涨超2%",
    "消费电子概念股今日大爆发，个股掀起涨停潮",
    "国家知识产权局聚焦高质量发展，开展专项整治",
    "霍尼韦尔宣布为新能源汽车提供新型制冷剂",
    "部分信托公司收到监管窗口指导，暂停相关产品发行",
    "长春发布若干政策措施支持市场主体纾困",
    "机构认为旺季将迎来需求复苏，业绩兑现成关键",
    "央行开展逆回购操作，维护银行体系流动性合理充裕",
    "多地出台稳增长措施，加大对中小微企业的支持力度",
    "券商板块午后拉升，多只个股涨幅居前",
]
STOCKS = [("601169", 1), ("NIO", 106), ("000001", 0), ("BK1037", 90), ("688036", 1)]
HOSTS = ["finance", "stock", "hk", "futures", "forex"]


def generate_posts(out_dir: str | Path, count: int, *, seed: int = 7,
                   newest: datetime = datetime(2022, 5, 31, 18, 0, 0, tzinfo=CST)) -> list[Path]:
    """Write ``count`` post sources into ``out_dir/_posts``; returns their paths."""
    rng = random.Random(seed)
    folder = Path(out_dir) / "_posts"
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for index in range(count):
        moment = newest - timedelta(minutes=3 * index, seconds=rng.randrange(60))
        news_id = f"{moment:%Y%m%d}{2300000000 + index:010d}"
        kind = index % 3
        if kind == 0:
            name, text = news_id, _early_emnews(rng, moment, news_id, index)
        elif kind == 1:
            name, text = news_id, _later_emnews(rng, moment, news_id, index)
        else:
            name, text = "NW" + news_id, _media(rng, moment, news_id, index)
        path = folder / f"{moment:%Y-%m-%d}-{name}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _front(title: str, moment: datetime, category: str, tag: str, offset: bool) -> str:
    date = f"{moment:%Y-%m-%d %H:%M:%S}" + (" +0800" if offset else "")
    return f'---\nlayout: post\ntitle: "{title}"\ndate: {date}\ncategories: {category}\ntags: {tag}\n---\n'


def _title(rng: random.Random, index: int) -> str:
    return f"{rng.choice(SENTENCES)}（第{index}号）"


def _paragraphs(rng: random.Random, count: int) -> list[str]:
    return ["，".join(rng.choice(SENTENCES) for _ in range(rng.randint(2, 5))) + "。" for _ in range(count)]


def _origin(rng: random.Random, news_id: str) -> str:
    return f"<http://{rng.choice(HOSTS)}.eastmoney.com/news/{rng.choice([1344, 1350, 1353, 11059])},{news_id}.html>"


def _early_emnews(rng: random.Random, moment: datetime, news_id: str, index: int) -> str:
    digest = _paragraphs(rng, 1)[0]
    return (_front(_title(rng, index), moment, "emnews", "东财滚动新闻", offset=False)
            + f"\n{digest}\n\n{_origin(rng, news_id)}\n\n[返回东财滚动新闻](../emnews/)\n[返回首页](../)")


def _widget(rng: random.Random) -> str:
    code, market = rng.choice(STOCKS)
    return (
        '<p style="display:none;height:1px;overflow:hidden;"><br /></p><!-- EM_StockImg_Start -->'
        f'<p style="text-align:center;"><a href="http://quote.eastmoney.com/unify/r/{market}.{code}" '
        f'data-code="{code}|{market}|1" class="EmImageRemark" target="_blank">'
        f'<img src="https://webquoteklinepic.eastmoney.com/GetPic.aspx?nid={market}.{code}&imageType=k" '
        'border="0" alt="K图" width="578" height="276" /></a></p><!-- EM_StockImg_End -->'
    )


def _article_html(rng: random.Random, source: str) -> str:
    paragraphs = "".join(f"<p>\u3000\u3000{p}</p>" for p in _paragraphs(rng, rng.randint(3, 8)))
    picture = ('<center><img src="https://dfscdn.dfcfw.com/download/D0000_w800h555.jpg" alt="Image" '
               'width="552" /></center>') if rng.random() < 0.3 else ""
    return f'{_widget(rng)}{paragraphs}{picture}<p class="em_media">（文章来源：{source}）</p>'


def _later_emnews(rng: random.Random, moment: datetime, news_id: str, index: int) -> str:
    source = rng.choice(MEDIA)[1]
    return (_front(_title(rng, index), moment, "emnews", "东财滚动新闻", offset=True)
            + f"> {_paragraphs(rng, 1)[0]}（{source}）\n\n{_article_html(rng, source)}\n\n{_origin(rng, news_id)}"
            "\n\n[返回东财滚动新闻](//finews.withounder.com/emnews/)｜[返回首页](//finews.withounder.com/)")


def _media(rng: random.Random, moment: datetime, news_id: str, index: int) -> str:
    slug, name = rng.choice(MEDIA)
    return (_front(_title(rng, index), moment, slug, f"{name}新闻", offset=True)
            + f"{_article_html(rng, name)}\n\n<http://finews.zning.xyz/html_News/NewsShare.html?infoCode=NW{news_id}>"
            f"\n\n[返回{name}新闻](//finews.withounder.com/category/{slug}.html)｜[返回首页](//finews.withounder.com/)")
