#!/usr/bin/env bash
# Splash 3.5 without Docker (shared notes/splash.md): Debian's PyQt5 + QtWebKit, and Splash from PyPI in
# .splash/venv (Debian's python3, which sees Debian's PyQt5). finews/splash/launcher.py patches what
# Splash 3.5 needs on Python 3.11. Idempotent; the apt part needs root.
set -euo pipefail
cd "$(dirname "$0")/.."
venv=.splash/venv
if [ -x "$venv/bin/python" ] && "$venv/bin/python" -c "import splash, lupa, PyQt5.QtWebKit" 2>/dev/null; then
    exit 0
fi
scripts/apt-install.sh python3-venv python3-pyqt5 python3-pyqt5.qtwebkit python3-pyqt5.qtwebengine xvfb
rm -rf "$venv"
/usr/bin/python3 -m venv --system-site-packages "$venv"
# The versions notes/splash.md measured working together (QtWebEngine is imported by Splash even unused).
"$venv/bin/pip" install -q splash==3.5 lupa==2.8 Twisted==26.10.0 qt5reactor==0.6.3 psutil==7.2.2 \
    adblockparser==0.7 xvfbwrapper==0.2.37 funcparserlib==1.0.1 pillow==13.0.0 attrs==26.1.0 h2==4.4.1
