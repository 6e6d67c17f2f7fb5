#!/usr/bin/env bash
# System packages the tests use, from Debian: Jekyll (a real Jekyll build of the fixture site) and
# redis-server (the distributed-crawl tests start their own on 127.0.0.1).
# Installs what is missing when run as root; otherwise says what to install and fails.
set -euo pipefail
missing=()
command -v jekyll >/dev/null 2>&1 || missing+=(jekyll ruby-jekyll-feed ruby-kramdown-parser-gfm)
command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" -ne 0 ]; then
    echo "missing system packages: ${missing[*]} (run: sudo apt-get install ${missing[*]})" >&2
    exit 1
fi
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
