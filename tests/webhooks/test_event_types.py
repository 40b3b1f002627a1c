"""Every event type the code records literally is listed in webhooks/event_types.py."""

import ast
from pathlib import Path

from webhooks import event_types

ROOT = Path(__file__).resolve().parents[2]
APPS = ["accounts", "tenants", "crm_core", "billing", "customization", "crm_platform"]


def _recorded_types() -> set[str]:
    found = set()
    for app in APPS:
        for path in (ROOT / app).rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call):
                    continue
                name = getattr(node.func, "id", getattr(node.func, "attr", ""))
                kwargs = {
                    k.arg: k.value.value
                    for k in node.keywords
                    if isinstance(k.value, ast.Constant) and isinstance(k.value.value, str)
                }
                if name == "outbox_record" and "event_type" in kwargs:
                    found.add(kwargs["event_type"])
                elif name == "record_event" and {"record_type", "action"} <= set(kwargs):
                    found.add(f"{kwargs['record_type']}.{kwargs['action']}")
    return found


def test_every_literal_event_type_is_listed():
    listed = set(event_types.SUBSCRIBABLE) | event_types.INTERNAL
    recorded = _recorded_types()
    assert {"customer.created", "deal.stage_changed", "user.invited"} <= recorded
    assert recorded - listed == set(), "add these to webhooks/event_types.py"


def test_the_form_offers_every_subscribable_type():
    offered = {value for value, _label in event_types.event_type_choices()}
    assert offered == set(event_types.SUBSCRIBABLE)
    assert not offered & event_types.INTERNAL and event_types.WEBHOOK_TEST not in offered
