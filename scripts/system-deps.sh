#!/usr/bin/env bash
# System packages the tests use, from Debian: Jekyll (a real Jekyll build of the fixture site) and
# redis-server (the distributed-crawl tests start their own on 127.0.0.1).
set -euo pipefail
"$(dirname "$0")/apt-install.sh" jekyll ruby-jekyll-feed ruby-kramdown-parser-gfm redis-server
