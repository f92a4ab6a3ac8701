from .exports import ExportJob, ExportJobStatus
from .flags import HouseholdFlags
from .household import Household
from .imports import ImportBatch, ImportReject, ImportStatus
from .income import IncomeRecord
from .living import HouseholdLivingConditions, VillageProfile
from .person import MemberChange, Person
from .provenance import FactProvenance

__all__ = [
    "ExportJob",
    "ExportJobStatus",
    "FactProvenance",
    "Household",
    "HouseholdFlags",
    "HouseholdLivingConditions",
    "ImportBatch",
    "ImportReject",
    "ImportStatus",
    "IncomeRecord",
    "MemberChange",
    "Person",
    "VillageProfile",
]
