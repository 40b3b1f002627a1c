"""Registry of outbox event handlers.

Apps register a handler for an event type (or "*") in their AppConfig.ready():

    outbox_handlers.register("user.invited", send_invitation_email)

A handler receives the OutboxEvent and runs inside the event's tenant schema. It must be
idempotent: delivery is at least once.
"""

from collections import defaultdict
from collections.abc import Callable

Handler = Callable[["OutboxEvent"], None]  # noqa: F821

_handlers: dict[str, list[Handler]] = defaultdict(list)


def register(event_type: str, handler: Handler) -> None:
    if handler not in _handlers[event_type]:
        _handlers[event_type].append(handler)


def unregister(event_type: str, handler: Handler) -> None:
    if handler in _handlers[event_type]:
        _handlers[event_type].remove(handler)


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, ()), *_handlers.get("*", ())]
