"""Scrapy extensions: crawl-wide services hooked to signals."""
