"""The GC tuning extension: raised gen-0 threshold and frozen start-up objects during a run, restored after."""

from __future__ import annotations

import gc
from types import SimpleNamespace

import pytest
from scrapy.exceptions import NotConfigured
from scrapy.settings import Settings
from scrapy.signalmanager import SignalManager

from finews.extensions.gc_tuning import GcTuning


def crawler(threshold: int) -> SimpleNamespace:
    return SimpleNamespace(settings=Settings({"FINEWS_GC_THRESHOLD": threshold}), signals=SignalManager())


def test_threshold_raised_and_objects_frozen_during_the_run_then_restored():
    before = gc.get_threshold()
    ext = GcTuning.from_crawler(crawler(before[0] * 10))
    try:
        ext.engine_started()
        assert gc.get_threshold() == (before[0] * 10, before[1], before[2])
        assert gc.get_freeze_count() > 0
    finally:
        ext.engine_stopped()
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_zero_leaves_the_collector_alone():
    with pytest.raises(NotConfigured):
        GcTuning.from_crawler(crawler(0))
