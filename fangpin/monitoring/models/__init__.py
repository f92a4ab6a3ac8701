from .case import Case, CaseEvent, CaseStep, MonitoringObject
from .choices import (
    AssignmentKind,
    CaseKind,
    CaseStatus,
    Category,
    EliminationMethod,
    LeadChannel,
    LeadOutcome,
    LeadStatus,
    MeasureStatus,
    ObjectOrigin,
    ObjectStatus,
    StepStatus,
)
from .lead import Lead, LeadSource
from .measure import Measure
from .visit import Assignment, Visit

__all__ = [
    "Assignment",
    "AssignmentKind",
    "Case",
    "CaseEvent",
    "CaseKind",
    "CaseStatus",
    "CaseStep",
    "Category",
    "EliminationMethod",
    "Lead",
    "LeadChannel",
    "LeadOutcome",
    "LeadSource",
    "LeadStatus",
    "Measure",
    "MeasureStatus",
    "MonitoringObject",
    "ObjectOrigin",
    "ObjectStatus",
    "StepStatus",
    "Visit",
]
