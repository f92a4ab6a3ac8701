"""Sending messages through the configured backend, once per dedupe key."""

from __future__ import annotations

import datetime as dt

from ..messaging import Message, clean, get_backend
from ..models import OutgoingMessage


def message_send(*, recipient, subject: str, body: str, dedupe_key: str = "", channel: str = "sms") -> bool:
    """Sends one message to a user (their phone); a repeated dedupe key is not sent twice. Returns sent?"""
    if dedupe_key and OutgoingMessage.objects.filter(dedupe_key=dedupe_key[:120]).exists():
        return False
    get_backend().send(
        Message(
            recipient_id=getattr(recipient, "pk", None),
            to_address=getattr(recipient, "phone", "") or "",
            subject=clean(subject),
            body=clean(body),
            channel=channel,
            dedupe_key=dedupe_key,
        )
    )
    return True


def notify_due(*, on: dt.date) -> int:
    """Daily digest: each active user with due or overdue items gets one message listing the counts."""
    from fangpin.accounts.models import User

    from ..selectors import my_tasks

    sent = 0
    for user in User.objects.filter(is_active=True).select_related("region"):
        items = my_tasks(user, on=on)
        if not items:
            continue
        overdue = sum(1 for i in items if i.overdue)
        body = f"您有待办事项{len(items)}项，其中已逾期{overdue}项。" + "；".join(i.title for i in items[:3])
        sent += message_send(
            recipient=user,
            subject="防返贫监测待办提醒",
            body=body[:500],
            dedupe_key=f"digest-{user.pk}-{on.isoformat()}",
        )
    return sent
