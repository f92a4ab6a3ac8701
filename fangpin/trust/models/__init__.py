from .appeals import Appeal, AppealKind, AppealOutcome, AppealStatus
from .base import Counter, Task, TaskKind, TaskStatus
from .changes import ChangeKind, ChangeRequest, ChangeStatus
from .consent import Consent
from .disasters import DisasterEvent, DisasterLoss, DisasterVillage
from .notifications import OutgoingMessage
from .provenance import Discrepancy, DiscrepancyStatus
from .recert import Recertification

__all__ = [
    "Appeal",
    "AppealKind",
    "AppealOutcome",
    "AppealStatus",
    "ChangeKind",
    "ChangeRequest",
    "ChangeStatus",
    "Consent",
    "Counter",
    "DisasterEvent",
    "DisasterLoss",
    "DisasterVillage",
    "Discrepancy",
    "DiscrepancyStatus",
    "OutgoingMessage",
    "Recertification",
    "Task",
    "TaskKind",
    "TaskStatus",
]
