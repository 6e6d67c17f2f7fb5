"""Scrapy commands of finews (COMMANDS_MODULE): ``scrapy crawl`` with meaningful exit statuses."""
