"""Splash scripts for rendering share pages."""

from importlib.resources import files

WAIT_FOR_ARTICLE = (files(__package__) / "wait_for_article.lua").read_text(encoding="utf-8")
