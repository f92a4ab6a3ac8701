"""Outgoing messages (SMS, a government messaging platform). A backend is a class with
``send(message) -> str`` (returns the status it reached). The backend in use is chosen by the setting
``FANGPIN_MESSAGE_BACKEND`` (default "local"), looked up in ``BACKENDS`` — a county plugs in its gateway by
adding one class and one ``register_backend`` line, no string-based imports.

``LocalOutbox`` records every message in the database (OutgoingMessage) and sends nothing; it is the
default and what tests read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

from django.conf import settings
from django.utils import timezone

from fangpin.core.masking import mask_text


@dataclass(frozen=True)
class Message:
    recipient_id: int | None
    to_address: str
    subject: str
    body: str
    channel: str = "sms"
    dedupe_key: str = ""


class MessageBackend(Protocol):
    name: str

    def send(self, message: Message) -> str: ...


class LocalOutbox:
    """Records the message; a county without a gateway reads them in the app (or an operator forwards)."""

    name = "local"

    def send(self, message: Message) -> str:
        from fangpin.trust.models import OutgoingMessage

        OutgoingMessage.objects.create(
            recipient_id=message.recipient_id,
            to_address=message.to_address,
            channel=message.channel,
            subject=message.subject[:100],
            body=message.body,
            dedupe_key=message.dedupe_key[:120],
            backend=self.name,
            status="sent",
            sent_at=timezone.now(),
        )
        return "sent"


BACKENDS: dict[str, type] = {"local": LocalOutbox}


def register_backend(name: str, cls: type) -> None:
    BACKENDS[name] = cls


def get_backend() -> MessageBackend:
    name = getattr(settings, "FANGPIN_MESSAGE_BACKEND", "local")
    if name not in BACKENDS:
        raise RuntimeError(f"unknown FANGPIN_MESSAGE_BACKEND {name!r}; known: {sorted(BACKENDS)}")
    return BACKENDS[name]()


def clean(text: str) -> str:
    """Messages leave the system: never with an ID number or a full phone number in them."""
    return mask_text(text)
