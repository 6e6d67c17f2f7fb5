"""Plain functions that turn HTML or text into items: no Scrapy, no network."""
