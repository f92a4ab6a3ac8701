"""Data-quality checks (逻辑校验). Each rule: a stable code, a family, a Chinese message, and a function
that returns the rows it flags. Rules live in modules of this package (one per family) and in other
apps (e.g. monitoring registers risk-type/measure consistency rules); ``run_checks`` runs them all."""

from .base import CHECKS, CheckContext, Finding, register, run_checks

__all__ = ["CHECKS", "CheckContext", "Finding", "register", "run_checks"]
