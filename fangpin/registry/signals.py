"""Receivers that keep ``HouseholdFlags`` honest (see ``registry.flags``): a change marks the household dirty
in the same transaction. Bulk writes that send no signal touch their households themselves."""

from __future__ import annotations

from django.db.models.signals import post_delete, post_save, pre_save

from .flags import household_flags_queue_refresh, household_flags_touch, touch_one


def _household_saved(sender, instance, raw=False, created=False, **kwargs) -> None:
    """The household, and the households sharing a member's canonical ID number with it: the duplicate-ID
    finding there names this household's 户编号 (one indexed look-up; a new household has no members)."""
    touch_one(instance.pk)
    if raw or created:
        return
    from .models import Person

    household_flags_touch(
        Person.objects.filter(
            is_member=True,
            id_number_canon__in=Person.objects.filter(
                household_id=instance.pk, is_member=True, id_number_canon__isnull=False
            ).values("id_number_canon"),
        )
        .exclude(household_id=instance.pk)
        .values_list("household_id", flat=True)
    )


def _row_changed(sender, instance, **kwargs) -> None:
    touch_one(getattr(instance, "household_id", None))


def _person_before(sender, instance, raw=False, **kwargs) -> None:
    """Remember the stored canonical ID index (a changed number leaves its old duplicates)."""
    old = None
    if instance.pk and not raw:
        old = sender.objects.filter(pk=instance.pk).values_list("id_number_canon", flat=True).first()
    instance._flags_old_canon = old


def _person_duplicates(sender, instance, **kwargs) -> None:
    """The duplicate-ID rule links households: a member's number added, changed or removed changes the
    findings of every household whose member shares the old or the new canonical number (one indexed
    lookup on ``id_number_canon``)."""
    canons = {getattr(instance, "_flags_old_canon", None), instance.id_number_canon} - {None}
    if canons:
        household_flags_touch(
            sender.objects.filter(id_number_canon__in=canons, is_member=True)
            .exclude(household_id=instance.household_id)
            .values_list("household_id", flat=True)
        )


def _audited(sender, events, **kwargs) -> None:
    """Any audited state change of a household (a case step, a measure, a monitoring object, a change
    request…) may change its findings. Reads (``*_view``) and refusals change nothing."""
    household_flags_touch(
        ev.household_id
        for ev in events
        if ev.household_id and ev.result == "ok" and not ev.event_type.endswith(("_view", "_viewed"))
    )


def _parameter_saved(sender, instance, **kwargs) -> None:
    """A new line or rule parameter: every household of that region is computed again on its next read."""
    from django.db.models import F

    from .models import HouseholdFlags

    prefix = (instance.region_code or "").rstrip("0")
    qs = HouseholdFlags.objects.all()
    if prefix:
        qs = qs.filter(household__village__code__startswith=prefix)
    qs.update(dirty=True, gen=F("gen") + 1)
    household_flags_queue_refresh()


def connect() -> None:
    from fangpin.audit.record import audit_recorded
    from fangpin.policy.models import Parameter

    from .models import Household, HouseholdLivingConditions, IncomeRecord, MemberChange, Person

    post_save.connect(_household_saved, sender=Household, dispatch_uid="flags.household")
    for m in (Person, IncomeRecord, MemberChange, HouseholdLivingConditions):
        post_save.connect(_row_changed, sender=m, dispatch_uid=f"flags.save.{m.__name__}")
        post_delete.connect(_row_changed, sender=m, dispatch_uid=f"flags.delete.{m.__name__}")
    pre_save.connect(_person_before, sender=Person, dispatch_uid="flags.person.before")
    post_save.connect(_person_duplicates, sender=Person, dispatch_uid="flags.person.duplicates")
    post_delete.connect(_person_duplicates, sender=Person, dispatch_uid="flags.person.duplicates.delete")
    audit_recorded.connect(_audited, dispatch_uid="flags.audit")
    post_save.connect(_parameter_saved, sender=Parameter, dispatch_uid="flags.parameter")
