from .household import Household
from .imports import ImportBatch, ImportReject, ImportStatus
from .income import IncomeRecord
from .person import MemberChange, Person
from .provenance import FactProvenance

__all__ = [
    "FactProvenance",
    "Household",
    "ImportBatch",
    "ImportReject",
    "ImportStatus",
    "IncomeRecord",
    "MemberChange",
    "Person",
]
