"""finews' own signals, beside Scrapy's."""

# Input that never became an item (an unparseable page, a failed fetch).
# Handlers receive: reason, detail, url, raw, spider.
item_rejected = object()

# A share page that gave no article (API and Splash both failed, or rendering is off).
# Handlers receive: failure (finews.items.ShareFailure), spider.
share_failed = object()

# A post source the posts spider read from disk itself (no request, so no response to capture).
# Handlers receive: uri (its file:// URL), data (its bytes), spider; the capture returns its pointer.
source_read = object()
