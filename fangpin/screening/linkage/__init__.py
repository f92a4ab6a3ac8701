"""Probabilistic person linkage with Splink 5 (DuckDB or Spark backend, whichever engine runs the month).

Only department records whose ID is missing, unusable or (for registry-oriented lists) unknown come here;
everything with a valid registered ID was joined exactly before. See ``link.py``.
"""

from .link import LinkResult, link_records

__all__ = ["LinkResult", "link_records"]
