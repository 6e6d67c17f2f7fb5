"""Scrapy settings for finews.

finews' own settings (FINEWS_*, MONGO_URI, SPLASH_URL) come from
``finews.defaults`` with environment overrides; the Scrapy settings below are
the production defaults for the live site.
"""

from finews.defaults import DEFAULTS, from_environment

globals().update(from_environment(DEFAULTS))

BOT_NAME = "finews"
SPIDER_MODULES = ["finews.spiders"]
NEWSPIDER_MODULE = "finews.spiders"

# Politeness for the live site (a small GitHub Pages blog).
USER_AGENT = "finews/0.1 (news archiver; +https://github.com/zning1994/finews)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# A page yields one article and a few links: Scrapy's default of 100 parallel output
# handlers per response costs more than the parsing (see benchmarks/crawl.py).
CONCURRENT_ITEMS = 16
AUTOTHROTTLE_ENABLED = True
AUTOTHROTTLE_START_DELAY = 0.5
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
RETRY_ENABLED = True
RETRY_TIMES = 3
DOWNLOAD_TIMEOUT = 30
# Huge pages: a post page is a few kB; anything above this is cut off and recorded.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "finews.pipelines.normalize.NormalizePipeline": 100,
    "finews.pipelines.validate.ValidatePipeline": 200,
    "finews.pipelines.dedupe.DedupePipeline": 300,
    "finews.pipelines.store.StorePipeline": 400,
}

# scrapy-splash (share pages the JSON endpoint does not give), and the breaker in front of it.
# Not its SplashDeduplicateArgsMiddleware: it only has process_start_requests(), which Scrapy 2.13
# refuses beside spiders with an async start(); it saves memory for repeated Lua sources only.
DOWNLOADER_MIDDLEWARES = {
    "scrapy_splash.SplashCookiesMiddleware": 723,
    "scrapy_splash.SplashMiddleware": 725,
    "finews.middlewares.splash_breaker.SplashBreakerMiddleware": 730,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 810,
}

EXTENSIONS = {
    "finews.extensions.rejects.RejectLog": 100,
    "finews.extensions.runs.CrawlRuns": 110,
    "finews.extensions.progress.Progress": 120,
}

LOG_FORMATTER = "finews.logformatter.FinewsLogFormatter"
