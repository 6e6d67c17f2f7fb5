"""finews' own signals, beside Scrapy's."""

# Input that never became an item (an unparseable page, a failed fetch).
# Handlers receive: reason, detail, url, raw, spider.
item_rejected = object()

# A share page that gave no article (API and Splash both failed, or rendering is off).
# Handlers receive: failure (finews.items.ShareFailure), spider.
share_failed = object()
