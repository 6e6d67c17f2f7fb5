"""Start Splash 3.5 on Python 3.11 with lupa 2.x: three fixes in memory, then ``splash.server``.

Run with the Splash virtual environment's Python (Debian's python3 with PyQt5 and
QtWebKit), e.g. ``.splash/venv/bin/python scripts/splash_launcher.py --port 8050``.
The fixes (shared notes/splash.md):
1. lupa >= 2 defaults to Lua 5.4+, where Splash's sandbox breaks: give it lupa's Lua 5.2.
2. PyQt5 on Python >= 3.10 rejects floats where Splash passes them (timer milliseconds,
   screenshot regions, scroll positions): round them to ints.
3. Python >= 3.9 dropped ``json.loads(..., encoding=...)``, which Splash uses on every JSON body.
"""

from __future__ import annotations

import functools
import json
import runpy
import sys

import lupa
import lupa.lua52

sys.modules["lupa"] = lupa.lua52

from PyQt5 import QtCore  # noqa: E402 - after the lupa switch, before Splash

_original_start = QtCore.QTimer.start


class _IntTimer(QtCore.QTimer):
    def start(self, *args):
        return _original_start(self, *(int(a) if isinstance(a, float) else a for a in args))


QtCore.QTimer = _IntTimer

_original_loads = json.loads


@functools.wraps(_original_loads)
def _loads(s, *args, encoding=None, **kwargs):
    return _original_loads(s, *args, **kwargs)


json.loads = _loads


def _patch_splash() -> None:
    # Imported only now: Splash must see the switched lupa and the int-only QTimer.
    from splash import qtrender_image  # noqa: PLC0415
    from splash.engines.webkit import browser_tab  # noqa: PLC0415

    region_to_viewport = qtrender_image.BaseQtScreenshotRenderer._region_to_web_viewport

    def _region(self, region, *args, **kwargs):
        if region is not None:
            region = tuple(int(v) for v in region)
        return region_to_viewport(self, region, *args, **kwargs)

    qtrender_image.BaseQtScreenshotRenderer._region_to_web_viewport = _region
    set_scroll = browser_tab.WebkitBrowserTab.set_scroll_position

    def _scroll(self, x, y):
        return set_scroll(self, int(x), int(y))

    browser_tab.WebkitBrowserTab.set_scroll_position = _scroll


if __name__ == "__main__":
    _patch_splash()
    sys.argv[0] = "splash"
    runpy.run_module("splash.server", run_name="__main__", alter_sys=True)
