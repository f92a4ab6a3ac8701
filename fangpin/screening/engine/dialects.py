"""Every difference between the SQL of DuckDB and of Spark lives here (Splink's dialect pattern).

Rules and the pipeline build SQL only through these methods; they never branch on the engine name.
A function an engine lacks raises ``NotImplementedError`` naming the engine.
"""

from __future__ import annotations

import datetime as dt


class Dialect:
    name = "abstract"

    # --- literals -------------------------------------------------------------------------------
    def date(self, d: dt.date) -> str:
        return f"DATE '{d.isoformat()}'"

    def string(self, s: str) -> str:
        return "'" + str(s).replace("\\", "\\\\").replace("'", "''") + "'"

    def literal(self, v) -> str:
        if isinstance(v, bool):
            return "TRUE" if v else "FALSE"
        if isinstance(v, int | float):
            return repr(float(v)) if isinstance(v, float) else str(v)
        return self.string(v)

    # --- functions ------------------------------------------------------------------------------
    def arg_max(self, value: str, by: str) -> str:
        """The ``value`` of the row with the largest ``by`` in the group (evidence: the biggest record)."""
        raise NotImplementedError(f"arg_max not available for {self.name}")

    def age_at(self, birth: str, on: str) -> str:
        """Whole years between two dates (age at an event)."""
        return (
            f"(year({on}) - year({birth}) - CASE WHEN month({on}) * 100 + {self.day(on)}"
            f" < month({birth}) * 100 + {self.day(birth)} THEN 1 ELSE 0 END)"
        )

    def day(self, expr: str) -> str:
        return f"day({expr})"

    def text(self, expr: str) -> str:
        """Any value as text (dates as YYYY-MM-DD, integers without decimals, booleans true/false)."""
        return f"CAST({expr} AS VARCHAR)"

    def count_if(self, cond: str) -> str:
        # an aggregate FILTER (both engines): no per-row CASE projection over a 100-million-row join
        return f"count(*) FILTER (WHERE {cond})"

    def hash(self, *exprs: str) -> str:
        """One 64-bit hash of several values (equal values, equal hash; a prefilter, never proof)."""
        return f"hash({', '.join(exprs)})"

    def row_json(self, alias: str) -> str:
        """The whole row of ``alias`` as one JSON text (nulls kept), to stack unlike results in one job."""
        return f"to_json({alias})"


class DuckDBDialect(Dialect):
    name = "duckdb"

    def arg_max(self, value: str, by: str) -> str:
        return f"arg_max({value}, {by})"


class SparkDialect(Dialect):
    name = "spark"

    def arg_max(self, value: str, by: str) -> str:
        return f"max_by({value}, {by})"

    def day(self, expr: str) -> str:
        return f"dayofmonth({expr})"

    def text(self, expr: str) -> str:
        return f"CAST({expr} AS STRING)"

    def hash(self, *exprs: str) -> str:
        return f"xxhash64({', '.join(exprs)})"

    def row_json(self, alias: str) -> str:
        return f"to_json(struct({alias}.*), map('ignoreNullFields', 'false'))"

    def string(self, s: str) -> str:
        # Spark SQL treats backslash as an escape inside literals too, and '' as a quote.
        return "'" + str(s).replace("\\", "\\\\").replace("'", "\\'") + "'"
