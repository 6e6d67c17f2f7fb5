"""finews/splash/compat.py: each shim, the upstream break it stands for, and what fails without it.

The first test of each pair asserts the break is still there upstream: when a scrapy-splash
release fixes it, that test fails, and the shim can go.
"""

from __future__ import annotations

import subprocess
import sys
from types import SimpleNamespace

import pytest
from conftest import ROOT
from scrapy import Spider
from scrapy.core.downloader import Downloader
from scrapy.core.downloader.middleware import DownloaderMiddlewareManager
from scrapy.pipelines import ItemPipelineManager
from scrapy.utils.project import get_project_settings
from scrapy.utils.reactor import install_reactor, is_reactor_installed
from scrapy.utils.test import get_crawler

from finews import settings as project_settings

PAGE = "http://choicewzp1.eastmoney.com/html_News/NewsShare.html?infoCode=NW202206011234567890"


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False)


def test_scrapy_splash_does_not_import_alone_on_this_scrapy():
    """scrapy-splash#332: still broken upstream (the day this fails, shim 1 can go)."""
    run = _python("import scrapy_splash")
    assert "cannot import name 'canonicalize_url' from 'scrapy.utils.url'" in run.stderr


def test_scrapy_splash_imports_on_this_scrapy():
    run = _python("import finews.splash.compat, scrapy_splash; print(scrapy_splash.SplashRequest.__name__)")
    assert run.returncode == 0 and run.stdout.strip() == "SplashRequest", run.stderr


def test_the_per_domain_slot_policy_needs_what_scrapy_removed():
    """scrapy-splash#330: its per_domain policy calls Downloader._get_slot_key (the day this fails, shim 2 can go)."""
    assert not hasattr(Downloader, "_get_slot_key")


@pytest.fixture
def crawler():
    settings = {name: value for name, value in vars(project_settings).items() if name.isupper()}
    settings["SPLASH_URL"] = "http://127.0.0.1:8050"
    if not is_reactor_installed():  # the Downloader needs one, as in a crawl; nothing here runs it
        install_reactor(get_project_settings()["TWISTED_REACTOR"])
    return get_crawler(Spider, settings_dict=settings)


def test_splash_requests_keep_the_page_hosts_slot(crawler):
    from finews.splash.compat import SplashMiddleware, SplashRequest, SplashSlotMiddleware  # noqa: PLC0415

    crawler.spider = Spider("share")
    crawler.engine = SimpleNamespace(downloader=Downloader(crawler))
    request = SplashRequest(PAGE, endpoint="execute", args={"lua_source": "return {}"})
    assert request.meta["splash"]["slot_policy"] == "scrapy_default"
    assert SplashSlotMiddleware(crawler).process_request(request) is None
    assert request.meta["download_slot"] == "choicewzp1.eastmoney.com"
    to_splash = SplashMiddleware.from_crawler(crawler).process_request(request)
    assert to_splash.url == "http://127.0.0.1:8050/execute"
    assert to_splash.meta["download_slot"] == "choicewzp1.eastmoney.com"  # the share host's politeness holds


def test_no_deprecated_middleware_signatures(crawler):
    """Every downloader middleware and pipeline finews enables, scrapy-splash's included, builds without a
    ScrapyDeprecationWarning (pytest's filterwarnings makes one an error)."""
    middlewares = DownloaderMiddlewareManager.from_crawler(crawler)
    names = {type(m).__module__ + "." + type(m).__name__ for m in middlewares.middlewares}
    assert {"finews.splash.compat.SplashMiddleware", "finews.splash.compat.SplashSlotMiddleware",
            "finews.middlewares.splash_breaker.SplashBreakerMiddleware"} <= names
    crawler.settings.frozen = False
    crawler.settings.set("FINEWS_STORE", False)
    pipelines = ItemPipelineManager.from_crawler(crawler)
    assert len(pipelines.middlewares) == 3  # normalize, validate, dedupe (the store is off)
