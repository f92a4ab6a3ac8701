"""fangpin link_review ID (--accept | --reject) [--note ..] --as USER: decide one uncertain link of the review
queue (``screen_show --reviews`` lists it): accepted, the record is screened as that person's; rejected, it is
not linked. The same service as the 疑似匹配复核 screen; audited."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError

from fangpin.core.errors import DomainError, NotFound
from fangpin.registry.management.commands._actor import command_actor
from fangpin.screening.services.reviews import link_review_decide


class Command(BaseCommand):
    help = "复核一条疑似匹配：--accept 确认是此人，--reject 不是此人"

    def add_arguments(self, parser) -> None:
        parser.add_argument("review_id", type=int)
        decision = parser.add_mutually_exclusive_group(required=True)
        decision.add_argument("--accept", action="store_true")
        decision.add_argument("--reject", action="store_true")
        parser.add_argument("--note", default="")
        parser.add_argument("--as", dest="username", required=True)

    def handle(self, *args: Any, review_id: int, accept: bool, note: str, username: str, **o: Any) -> None:
        actor = command_actor(username)
        try:
            r = link_review_decide(actor=actor, review_id=review_id, accept=accept, note=note)
        except NotFound:
            raise CommandError("疑似匹配不存在或无权访问") from None
        except DomainError as e:
            raise CommandError(e.message) from None
        self.stdout.write(f"疑似匹配#{r.pk}：{r.get_status_display()}")
