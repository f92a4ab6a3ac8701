from .household import Household
from .income import IncomeRecord
from .person import MemberChange, Person
from .provenance import FactProvenance

__all__ = ["FactProvenance", "Household", "IncomeRecord", "MemberChange", "Person"]
