"""Spiders navigate; parsing lives in finews.parsing."""
