"""finews: a crawler and archiver for the finews.withounder.com news site."""

__version__ = "0.1.0"
