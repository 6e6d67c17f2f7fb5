"""A local replica of the site, served on 127.0.0.1 from a folder of post sources.

Tests, benchmarks and the offline demo crawl it instead of the live site.
``Replica(posts_dir).start()`` serves it on a free port; see ``server.py``.
"""

from finews.replica.generate import generate_posts
from finews.replica.server import Replica
from finews.replica.site import Site

__all__ = ["Replica", "Site", "generate_posts"]
