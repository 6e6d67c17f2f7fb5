"""Scrapy settings for finews.

finews' own settings (FINEWS_*, MONGO_URI, SPLASH_URL) come from
``finews.defaults`` with environment overrides; the Scrapy settings below are
the production defaults for the live site.
"""

from finews.defaults import DEFAULTS, from_environment
from finews.redact import install_log_redaction

globals().update(from_environment(DEFAULTS))
# Before Scrapy logs its settings: a MONGO_URI password must never reach a log.
install_log_redaction()

BOT_NAME = "finews"
SPIDER_MODULES = ["finews.spiders"]
NEWSPIDER_MODULE = "finews.spiders"

# Politeness for the live site (a small GitHub Pages blog).
USER_AGENT = "finews/0.1 (news archiver; +https://github.com/zning1994/finews)"
ROBOTSTXT_OBEY = True
CONCURRENT_REQUESTS = 16
CONCURRENT_REQUESTS_PER_DOMAIN = 8
# A page yields one article and a few links, and the pipelines answer at once: Scrapy sets up
# CONCURRENT_ITEMS parallel output handlers for every response whatever it yields, and its
# default of 100 cost more than the parsing (benchmarks/crawl.py). Still pays on Scrapy 2.19:
# benchmarks/share.py's API path took 1.09-1.11 CPU ms an article at 1, 1.17 at 16 (2026-12-05).
# The store's backpressure still holds a response's output while the database is behind.
CONCURRENT_ITEMS = 1
AUTOTHROTTLE_ENABLED = True
# AutoThrottle never lowers a slot's delay on a non-200 answer (scrapy/extensions/throttle.py), and a run on a
# quiet site gets only 304s: each listing then waited the start delay. At 0.5 s a run with nothing new took
# 5.2-5.6 s of crawling for 10 conditional requests, longer than a first crawl of 50 posts (3.3 s);
# benchmarks/year.py prints it. 0.1 s is ten conditional GETs a second at most, to a static site.
AUTOTHROTTLE_START_DELAY = 0.1
AUTOTHROTTLE_TARGET_CONCURRENCY = 4.0
# Neither the site nor the share hosts use cookies: Scrapy's advice for broad crawls, one middleware less a request.
COOKIES_ENABLED = False
RETRY_ENABLED = True
RETRY_TIMES = 3
DOWNLOAD_TIMEOUT = 30
# Huge pages: a post page is a few kB; anything above this is cut off and recorded.
DOWNLOAD_MAXSIZE = 8 * 1024 * 1024
DOWNLOAD_WARNSIZE = 2 * 1024 * 1024

# Scrapy's own reactor (asyncio): on Scrapy 2.13 Twisted's epoll reactor saved about a tenth of the
# CPU a request takes, on 2.19 it no longer pays (2026-12-05, benchmarks/share.py's API path: epoll
# 856-893 articles/s, asyncio 871-899; benchmarks/crawl.py: epoll 654-662 pages/s, asyncio 671-677),
# and Scrapy's extensions that need asyncio (RemoteControl) work with it.

FEED_EXPORT_ENCODING = "utf-8"
LOG_LEVEL = "INFO"

ITEM_PIPELINES = {
    "finews.pipelines.normalize.NormalizePipeline": 100,
    "finews.pipelines.validate.ValidatePipeline": 200,
    "finews.pipelines.dedupe.DedupePipeline": 300,
    "finews.pipelines.store.StorePipeline": 400,
}

# scrapy-splash (share pages the JSON endpoint does not give) through finews.splash.compat, which says
# why each of its middlewares is there or not; the breaker in front of Splash.
DOWNLOADER_MIDDLEWARES = {
    "finews.splash.compat.SplashSlotMiddleware": 724,
    "finews.splash.compat.SplashMiddleware": 725,
    "finews.middlewares.splash_breaker.SplashBreakerMiddleware": 730,
    # Below scrapy-splash and decompression: the body kept is what the spiders read (middlewares/capture.py).
    "finews.middlewares.capture.CaptureMiddleware": 700,
    "scrapy.downloadermiddlewares.httpcompression.HttpCompressionMiddleware": 810,
}

EXTENSIONS = {
    "finews.extensions.jobdir.JobdirGuard": 50,
    "finews.extensions.gc_tuning.GcTuning": 60,
    "finews.extensions.rejects.RejectLog": 100,
    "finews.extensions.progress.Progress": 120,
    "spidermon.contrib.scrapy.extensions.Spidermon": 500,
    # After Spidermon: the run record keeps the monitors' verdict.
    "finews.extensions.runs.CrawlRuns": 600,
}

# Monitoring (Spidermon): monitors at close (finews/monitors.py); items are checked by the validation pipeline.
SPIDERMON_ENABLED = True
SPIDERMON_SPIDER_CLOSE_MONITORS = ("finews.monitors.CloseMonitors",)

# Settings derived from finews' own once all are known, whichever way they were given (finews/addons.py):
# the time and idle limits (FINEWS_TIME_LIMIT, FINEWS_IDLE_LIMIT → CLOSESPIDER_*), and scrapy-redis
# scheduling when FINEWS_REDIS_URL is set.
ADDONS = {"finews.addons.Limits": 0, "finews.addons.Distributed": 0}

# `scrapy crawl` exits with the run's outcome (finews/outcome.py).
COMMANDS_MODULE = "finews.commands"

LOG_FORMATTER = "finews.logformatter.FinewsLogFormatter"
