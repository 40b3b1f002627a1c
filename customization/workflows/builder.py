"""The rule builder form: plain inputs (selects, numbers, texts per language) to and from
a rule's trigger, conditions and actions, so admins never type JSON.

Rows are numbered inputs (`cond-<group>-<row>-field`, `act-<row>-type`, ...); conditions
come in groups (each "all" or "any"), joined by the top-level `match`. "Add" and "remove" buttons
post the form back and get it re-rendered with one row more or less, so the builder works
with or without htmx.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field

from django.utils.translation import gettext_lazy as _

from accounts.models import Team, User
from accounts.roles import Role
from crm_core.models import Stage

from .actions import ACTIONS, LANGUAGES
from .entities import BOOLEAN, ENTITIES, OPERATORS, fields_of

TRIGGER_LABELS = {
    "created": _("a record is created"),
    "updated": _("a record is updated"),
    "field_changed": _("a field changes"),
    "stage_entered": _("a deal enters a stage"),
    "no_activity": _("no follow-up for some days"),
    "date_relative": _("days before or after a date"),
    "schedule": _("on a schedule"),
}
OPERATOR_LABELS = {
    "eq": _("is"),
    "ne": _("is not"),
    "in": _("is one of"),
    "not_in": _("is none of"),
    "is_empty": _("is empty"),
    "is_not_empty": _("is not empty"),
    "contains": _("contains"),
    "starts_with": _("starts with"),
    "gt": _("is greater than"),
    "gte": _("is at least"),
    "lt": _("is less than"),
    "lte": _("is at most"),
}
ACTION_LABELS = {
    "update_fields": _("update a field"),
    "create_task": _("create a task"),
    "notify": _("send an in-app notification"),
    "send_email": _("send an e-mail"),
    "assign_owner": _("assign an owner"),
    "return_to_pool": _("return to the public pool"),
    "create_record": _("create a related record"),
    "call_webhook": _("call a webhook"),
    "request_approval": _("request approval"),
    "wait": _("wait"),
}
RECIPIENT_LABELS = {
    "owner": _("the record's owner"),
    "owner_manager": _("the owner's manager"),
    "actor": _("the user who made the change"),
}
TEXT_KEYS = ("subject", "title", "body")


@dataclass
class Builder:
    """The form's state: what the admin entered, and errors keyed like the services'."""

    entity: str = "deal"
    data: dict = field(default_factory=dict)  # flat input values
    groups: list[int] = field(default_factory=lambda: [1])  # condition rows per group
    actions: int = 1
    errors: dict = field(default_factory=dict)
    # A condition tree deeper than groups of conditions (made through the API): kept as is.
    kept_conditions: dict | None = None
    # "conditions.all.0.any.1" -> (group, row): where the services' errors belong.
    _locations: dict = field(default_factory=dict)

    # --- from a saved rule, and from a posted form ------------------------------------

    @classmethod
    def from_rule(cls, rule) -> Builder:
        version = rule.current_version
        data = {"name": rule.name, "description": rule.description, "entity": rule.entity}
        data["is_enabled"] = "on" if rule.is_enabled else ""
        for key, value in version.trigger.items():
            data[f"trigger_{key}"] = _as_input(value)
        groups, kept = _groups_of(version.conditions or {"all": []}, data)
        for i, action in enumerate(version.actions):
            action_inputs(data, i, action)
        builder = cls(rule.entity, data, groups, max(len(version.actions), 1))
        builder.kept_conditions = kept
        return builder

    @classmethod
    def from_post(cls, post, *, entity: str | None = None) -> Builder:
        data = {key: value.strip() for key, value in post.items() if key != "csrfmiddlewaretoken"}
        if entity is None:
            entity = data.get("entity") if data.get("entity") in ENTITIES else "deal"
        groups = _group_sizes(post)
        actions = _count(post, "act")
        change = data.pop("_change", "")
        if change == "add-group":
            groups.append(1)
        elif change.startswith("add-condition-"):
            groups[int(change.rsplit("-", 1)[1])] += 1
        elif change == "add-action":
            actions += 1
        elif change.startswith("remove-condition-"):
            group, row = (int(n) for n in change.rsplit("-", 2)[1:])
            data = _remove_row(data, f"cond-{group}-", groups[group], row)
            groups[group] -= 1
        elif change.startswith("remove-action-"):
            data = _remove_row(data, "act-", actions, int(change.rsplit("-", 1)[1]))
            actions -= 1
        builder = cls(entity, data, [max(n, 1) for n in groups] or [1], max(actions, 1))
        if post.get("kept_conditions"):
            builder.kept_conditions = json.loads(post["kept_conditions"])
        return builder

    # --- to the services' definition ----------------------------------------------------

    def definition(self) -> dict:
        fields = fields_of(ENTITIES[self.entity])
        get = self.data.get
        trigger = {"type": get("trigger_type", "")}
        for key in ("field", "from", "to", "cron"):
            if get(f"trigger_{key}"):
                trigger[key] = get(f"trigger_{key}")
        for key in ("stage", "days"):
            if get(f"trigger_{key}"):
                trigger[key] = _int(get(f"trigger_{key}"))
        if trigger["type"] == "date_relative":
            trigger["yearly"] = bool(get("trigger_yearly"))
        conditions = self.kept_conditions or self._condition_tree(fields)
        actions = []
        for i in range(self.actions):
            kind = get(f"act-{i}-type")
            if not kind:
                continue
            action = {"type": kind}
            if kind in ("update_fields", "create_record"):
                target = fields
                if kind == "create_record":
                    action["entity"] = get(f"act-{i}-entity", "")
                    target = (
                        fields_of(ENTITIES[action["entity"]])
                        if action["entity"] in ENTITIES
                        else {}
                    )
                name = get(f"act-{i}-field", "")
                value_kind = target[name].kind if name in target else ""
                action["values"] = {name: _typed(value_kind, get(f"act-{i}-value", ""))}
            for key in TEXT_KEYS:
                texts = {
                    lang: get(f"act-{i}-{key}-{lang}")
                    for lang in LANGUAGES
                    if get(f"act-{i}-{key}-{lang}")
                }
                if texts:
                    action[key] = texts
            for key in ("to", "assignee", "priority", "reason"):
                if get(f"act-{i}-{key}"):
                    action[key] = get(f"act-{i}-{key}")
            for key in ("due_in_days", "hours", "days", "user", "team", "endpoint", "process"):
                if get(f"act-{i}-{key}"):
                    action[key] = _int(get(f"act-{i}-{key}"))
            if kind == "assign_owner" and not (action.get("user") or action.get("team")):
                action["assignment_rules"] = True
            actions.append(action)
        return {
            "name": get("name", ""),
            "description": get("description", ""),
            "entity": self.entity,
            "is_enabled": bool(get("is_enabled")),
            "trigger": trigger,
            "conditions": conditions,
            "actions": actions,
        }

    def _condition_tree(self, fields) -> dict:
        """The groups' filled rows as a tree: one group is stored as a plain group."""
        get = self.data.get
        groups = []
        for g, rows in enumerate(self.groups):
            leaves = []
            for i in range(rows):
                path, op = get(f"cond-{g}-{i}-field"), get(f"cond-{g}-{i}-op")
                if not path:
                    continue
                leaf = {"field": path, "op": op}
                if op not in ("is_empty", "is_not_empty"):
                    raw = get(f"cond-{g}-{i}-value", "")
                    kind = fields[path].kind if path in fields else ""
                    leaf["value"] = (
                        [_typed(kind, part.strip()) for part in raw.split(",") if part.strip()]
                        if op in ("in", "not_in")
                        else _typed(kind, raw)
                    )
                leaves.append((i, leaf))
            if leaves:
                groups.append((g, _match(get(f"grp-{g}-match")), leaves))
        top = _match(get("match"))
        self._locations = {}
        if len(groups) == 1:
            g, match, leaves = groups[0]
            for n, (i, _leaf) in enumerate(leaves):
                self._locations[f"conditions.{match}.{n}"] = (g, i)
            return {match: [leaf for _i, leaf in leaves]}
        for m, (g, match, leaves) in enumerate(groups):
            for n, (i, _leaf) in enumerate(leaves):
                self._locations[f"conditions.{top}.{m}.{match}.{n}"] = (g, i)
        return {top: [{match: [leaf for _i, leaf in leaves]} for _g, match, leaves in groups]}

    # --- what the template needs ----------------------------------------------------------

    def context(self) -> dict:
        entity = ENTITIES[self.entity]
        fields = fields_of(entity)
        get = self.data.get
        condition_groups = []
        for g, count in enumerate(self.groups):
            rows = []
            for i in range(count):
                path = get(f"cond-{g}-{i}-field", "")
                kind = fields[path].kind if path in fields else None
                rows.append(
                    {
                        "index": i,
                        "field": path,
                        "op": get(f"cond-{g}-{i}-op", ""),
                        "value": get(f"cond-{g}-{i}-value", ""),
                        "operators": [
                            (op, OPERATOR_LABELS[op]) for op in OPERATORS.get(kind, ("eq",))
                        ],
                        "errors": self._condition_errors(g, i),
                    }
                )
            condition_groups.append({"index": g, "match": get(f"grp-{g}-match"), "rows": rows})
        action_rows = []
        for i in range(self.actions):
            values = {
                key.removeprefix(f"act-{i}-"): value
                for key, value in self.data.items()
                if key.startswith(f"act-{i}-")
            }
            target = ENTITIES.get(values.get("entity", ""))
            action_rows.append(
                {
                    "index": i,
                    "values": values,
                    "errors": self._row_errors("actions", i),
                    "target_fields": [f for f in fields_of(target).values() if f.writable]
                    if target
                    else [],
                }
            )
        users = User.objects.filter(is_active=True).order_by("full_name", "email")
        return {
            "entity": self.entity,
            "entities": [(key, label) for key, label in _entity_choices()],
            "data": self.data,
            "fields": list(fields.values()),
            "writable_fields": [f for f in fields.values() if f.writable],
            "date_fields": [
                f for f in fields.values() if f.kind in ("date", "datetime") and "." not in f.path
            ],
            "triggers": list(TRIGGER_LABELS.items()),
            "stages": Stage.objects.select_related("pipeline").order_by(
                "pipeline__position", "pipeline_id", "position"
            )
            if self.entity == "deal"
            else [],
            "condition_groups": condition_groups,
            "kept_conditions": json.dumps(self.kept_conditions) if self.kept_conditions else "",
            "action_rows": action_rows,
            "action_types": [(key, ACTION_LABELS[key]) for key in ACTIONS],
            "recipients": [
                *RECIPIENT_LABELS.items(),
                *((f"role:{value}", label) for value, label in Role.choices),
                *((f"user:{user.pk}", user.get_full_name()) for user in users),
            ],
            "users": users,
            "teams": Team.objects.order_by("name"),
            "endpoints": _webhook_endpoints(),
            "approval_processes": _approval_processes(self.entity),
            "languages": LANGUAGES,
            "trigger_errors": {k: v for k, v in self.errors.items() if k.startswith("trigger")},
            "other_errors": {
                k: v
                for k, v in self.errors.items()
                if not k.startswith(("trigger", "conditions.", "actions."))
            },
        }

    def set_errors(self, errors: dict) -> None:
        """The services' errors ({location: [messages]}), shown beside their inputs."""
        self.errors = errors

    def _row_errors(self, kind: str, index: int) -> list[str]:
        """Messages for one action row ("actions.<i>...")."""
        found = []
        for where, messages in self.errors.items():
            parts = where.split(".")
            if parts[0] == kind and len(parts) > 1 and parts[1] == str(index):
                where_in_row = ".".join(parts[2:])
                found.extend(f"{where_in_row}: {m}" if where_in_row else m for m in messages)
        return found

    def _condition_errors(self, group: int, row: int) -> list[str]:
        found = []
        for where, messages in self.errors.items():
            for prefix, place in self._locations.items():
                if place == (group, row) and (where == prefix or where.startswith(prefix + ".")):
                    found.extend(messages)
        return found


def action_inputs(data: dict, i: int, action: dict) -> None:
    """Fill `data` with action row `i`'s inputs."""
    for key, value in action.items():
        if key == "values":
            (name, val), *_rest = value.items()
            data[f"act-{i}-field"], data[f"act-{i}-value"] = name, _as_input(val)
        elif key in TEXT_KEYS:
            texts = value if isinstance(value, dict) else {"en": value}
            for language, text in texts.items():
                data[f"act-{i}-{key}-{language}"] = text
        else:
            data[f"act-{i}-{key}"] = _as_input(value)


def _webhook_endpoints():
    from webhooks.models import Endpoint

    return Endpoint.objects.filter(enabled=True).order_by("id")


def _approval_processes(entity: str):
    from customization.approvals.models import ApprovalProcess

    return ApprovalProcess.objects.filter(entity=entity)


def _entity_choices():
    from .models import WorkflowRule

    return WorkflowRule.Entity.choices


def _match(value) -> str:
    return value if value in ("all", "any") else "all"


def _groups_of(tree: dict, data: dict) -> tuple[list[int], dict | None]:
    """Fill `data` with a tree's groups of conditions; (rows per group, None), or
    ([1], tree) when the tree nests deeper than the builder shows."""
    top, items = next(iter(tree.items()))
    if all("field" in item for item in items):
        groups = [(top, items)]
        data["match"] = "all"
    elif all(
        "field" not in item and all("field" in leaf for leaf in next(iter(item.values())))
        for item in items
    ):
        groups = [next(iter(item.items())) for item in items]
        data["match"] = top
    else:
        return [1], tree
    for g, (match, leaves) in enumerate(groups):
        data[f"grp-{g}-match"] = match
        for i, leaf in enumerate(leaves):
            data[f"cond-{g}-{i}-field"], data[f"cond-{g}-{i}-op"] = leaf["field"], leaf["op"]
            data[f"cond-{g}-{i}-value"] = _as_input(leaf.get("value", ""))
    return [max(len(leaves), 1) for _match_, leaves in groups] or [1], None


def _group_sizes(post) -> list[int]:
    rows: dict[int, int] = {}
    for key in post:
        parts = key.split("-")
        if parts[0] == "cond" and len(parts) == 4 and parts[1].isdigit() and parts[2].isdigit():
            rows[int(parts[1])] = max(rows.get(int(parts[1]), 0), int(parts[2]) + 1)
    return [rows.get(g, 1) for g in range(max(rows) + 1)] if rows else [1]


def _remove_row(data: dict, prefix: str, count: int, index: int) -> dict:
    """`data` without row `index` of the rows named `<prefix><n>-...`, later rows moved up."""
    kept = {k: v for k, v in data.items() if not k.startswith(prefix)}
    for i in range(count):
        if i != index:
            new = i if i < index else i - 1
            for key, value in data.items():
                if key.startswith(f"{prefix}{i}-"):
                    kept[f"{prefix}{new}-" + key.removeprefix(f"{prefix}{i}-")] = value
    return kept


def _count(post, prefix: str) -> int:
    indexes = {
        int(key.split("-")[1])
        for key in post
        if key.startswith(f"{prefix}-") and key.split("-")[1].isdigit()
    }
    return max(indexes) + 1 if indexes else 0


def _typed(kind: str, raw: str):
    """A text input as the JSON value stored (numbers stay exact text; the services
    check every value against its field)."""
    if kind == BOOLEAN:
        return {"true": True, "false": False}.get(raw.lower(), raw)
    return raw


def _int(raw: str):
    try:
        return int(raw)
    except ValueError:
        return raw  # the services name the field and say a whole number is needed


def _as_input(value) -> str:
    if isinstance(value, bool):
        return "on" if value else ""
    if isinstance(value, list):
        return ", ".join(str(v) for v in value)
    return "" if value is None else str(value)
