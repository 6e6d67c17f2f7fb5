"""Plain functions that turn HTML or text into items: no Scrapy, no network."""

# The version of the rules that turn a capture into an article (parsing and normalizing). Bump it with
# every change that can change an article from the same capture: each article records the version that
# made it, and `finews reparse` re-derives the archive from the captures with the current rules.
PARSER_VERSION = 1
