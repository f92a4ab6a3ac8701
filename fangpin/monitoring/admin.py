"""Read-only admin views: every change goes through the services (audited), never through the admin."""

from __future__ import annotations

from django.contrib import admin

from fangpin.accounts.admin_base import ReadOnlyScopedAdmin

from .models import Assignment, Case, CaseEvent, CaseStep, Lead, LeadSource, Measure, MonitoringObject, Visit

ReadOnly = ReadOnlyScopedAdmin  # read-only and limited to the user's region


@admin.register(Lead)
class LeadAdmin(ReadOnly):
    list_display = ("id", "household", "status", "outcome", "opened_on", "township")
    list_filter = ("status", "outcome")


@admin.register(MonitoringObject)
class MonitoringObjectAdmin(ReadOnly):
    list_display = ("id", "household", "village", "category", "status", "identified_on", "eliminated_on")
    list_filter = ("status", "category", "origin")


@admin.register(Case)
class CaseAdmin(ReadOnly):
    list_display = (
        "id",
        "kind",
        "household",
        "village",
        "status",
        "current_step",
        "started_on",
        "due_on",
        "green_channel",
    )
    list_filter = ("kind", "status", "green_channel")


for model in (LeadSource, CaseStep, CaseEvent, Measure, Visit, Assignment):
    admin.site.register(model, ReadOnly)
