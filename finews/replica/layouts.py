"""The site's page templates, written from SITE.md's description of its Jekyll layouts.

Two versions of ``default.html`` exist (older and newer); both are here, so
crawl tests can prove the parser relies on neither.
"""

from __future__ import annotations

from html import escape

SITE_TITLE = "金融消息"
LIVE_URL = "https://finews.withounder.com"
OLD_URL = "https://finews.zning.me"

_HEAD_SCRIPT = (
    "<script>function AutoRefresh(t){setTimeout(\"location.reload(true);\",t);}</script>"
)


def default_layout(title: str, content: str, page_url: str, *, version: str = "new",
                   description: str = "") -> str:
    """``_layouts/default.html``: header, the content section, footer."""
    new = version == "new"
    og_url = (LIVE_URL if new else OLD_URL) + page_url
    og_description = title if new else description
    feed = (f'\n    <link rel="alternate" type="application/atom+xml" title="{SITE_TITLE}" '
            f'href="{LIVE_URL}/feed.xml">') if new else ""
    footer = (
        "<p>【免责声明】本站内容转载自互联网公开信息，仅供参考，不构成投资建议。</p>\n"
        "        <p><small>&copy; 2020 - <script>document.write(new Date().getFullYear())</script> "
        "金融消息聚合简站.</small></p>"
        if new else "<p><small>&copy; 2021</small></p>"
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
  <head>
    <meta charset="UTF-8">
    <meta http-equiv="X-UA-Compatible" content="IE=edge">
    <meta name="viewport" content="width=device-width, initial-scale=1">
    <meta name="author" content="ZNing">
    <meta property="og:title" content="{escape(title)}">
    <meta property="og:url" content="{escape(og_url)}">
    <meta property="og:description" content="{escape(og_description)}">
    <meta name="theme-color" content="#1976D2">
    <title>{escape(title)} | {SITE_TITLE}</title>
    <meta name="generator" content="Jekyll v3.9.3">
    <meta property="og:site_name" content="{SITE_TITLE}">
    <link rel="stylesheet" href="/assets/css/style.css?v=0123456789abcdef">{feed}
    {_HEAD_SCRIPT}
  </head>
  <body onload="JavaScript:AutoRefresh(60000);">
    <div class="wrapper">
      <header>
        <h1><a href="{LIVE_URL}/">{SITE_TITLE}</a></h1>
        <p>金融消息聚合简站</p>
      </header>
      <section>
{content}
      </section>
      <footer>
        {footer}
      </footer>
    </div>
    <script src="/assets/js/scale.fix.js"></script>
  </body>
</html>
"""


def post_layout(date_line: str, title: str, content: str, tags: list[str]) -> str:
    """``_layouts/post.html``: date line, title, body, tags line. Title and body go in raw, as Liquid does."""
    tags_line = f"<small>tags: <em>{'</em> - <em>'.join(tags)}</em></small>" if tags else ""
    return f"<small>(GMT+8, Asia/Shanghai, CST) {date_line}</small>\n<h1>{title}</h1>\n{content}\n{tags_line}"


def link_list(links: list[tuple[str, str]]) -> str:
    items = "".join(f'<li><a href="{escape(url)}">{title}</a></li>' for url, title in links)
    return f"<ul>{items}</ul>"


def index_content(links: list[tuple[str, str]]) -> str:
    return f'<h2 id="最近100条新消息">最近100条新消息</h2>\n{link_list(links)}'


def category_content(links: list[tuple[str, str]]) -> str:
    """``_layouts/category.html``: an empty heading (category pages have no tags), then every post."""
    return f'<h2 id=""></h2>\n{link_list(links)}' if links else ""


NOT_FOUND_CONTENT = """<h1>404 找不到页面 Page Not Found</h1>
<p>消息保留三天后归档。<a id="archive" href="https://github.com/zning1994/finews">在 GitHub 上查看归档</a></p>
<script>setTimeout(function(){location.href="/";},5000);</script>"""


SHARE_SHELL = """<!DOCTYPE html>
<html>
<head>
<meta charset="utf-8">
<title>东方财富网</title>
</head>
<body>
<div class="newsContent">
  <h1 id="newsTitle"></h1>
  <div class="info"><span id="newsTime"></span> <span id="newsSource"></span></div>
  <div id="ContentBody" class="Body"></div>
  <div id="newsError" style="display:none"></div>
</div>
<script type="text/javascript">
(function () {
  var match = /[?&]infoCode=([^&#]*)/i.exec(window.location.search);
  var code = match ? decodeURIComponent(match[1]) : "";
  var xhr = new XMLHttpRequest();
  xhr.open("GET", "/NewsData/GetNewsText.do?id=" + encodeURIComponent(code), true);
  xhr.setRequestHeader("X-Requested-With", "XMLHttpRequest");
  xhr.onreadystatechange = function () {
    if (xhr.readyState !== 4) { return; }
    var data = null;
    try { data = JSON.parse(xhr.responseText); } catch (e) { data = null; }
    var text = data && (data.text || data.content);
    if (typeof text !== "string" || !text) {
      var error = document.getElementById("newsError");
      error.style.display = "block";
      error.innerHTML = "文章不存在";
      return;
    }
    if (data.title) { document.getElementById("newsTitle").innerHTML = data.title; }
    if (data.showTime) { document.getElementById("newsTime").innerHTML = data.showTime; }
    if (data.mediaName) { document.getElementById("newsSource").innerHTML = data.mediaName; }
    document.getElementById("ContentBody").innerHTML = text;
  };
  xhr.send(null);
})();
</script>
</body>
</html>
"""


def atom_feed(site_url: str, updated: str, entries: list[dict]) -> str:
    """jekyll-feed's Atom document: the newest posts with full content."""
    parts = [
        '<?xml version="1.0" encoding="utf-8"?>',
        '<feed xmlns="http://www.w3.org/2005/Atom">',
        '<generator uri="https://jekyllrb.com/" version="3.9.3">Jekyll</generator>',
        f'<link href="{escape(site_url)}/feed.xml" rel="self" type="application/atom+xml" />',
        f'<link href="{escape(site_url)}/" rel="alternate" type="text/html" />',
        f"<updated>{updated}</updated>",
        f"<id>{escape(site_url)}/feed.xml</id>",
        f"<title type=\"html\">{SITE_TITLE}</title>",
    ]
    for entry in entries:
        parts.append(
            "<entry>"
            f'<title type="html">{escape(entry["title"])}</title>'
            f'<link href="{escape(entry["url"])}" rel="alternate" type="text/html" title="{escape(entry["title"])}" />'
            f"<published>{entry['date']}</published><updated>{entry['date']}</updated>"
            f"<id>{escape(entry['url'])}</id>"
            f'<content type="html" xml:base="{escape(entry["url"])}">{escape(entry["content"])}</content>'
            f'<author><name>ZNing</name></author><category term="{escape(entry["category"])}" />'
            "</entry>"
        )
    parts.append("</feed>")
    return "\n".join(parts)
