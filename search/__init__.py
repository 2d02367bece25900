"""Bahth: a search engine over Arabic political news (ingest -> analyze -> index -> search)."""

__version__ = "0.1.0"
