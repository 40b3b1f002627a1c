"""The approval process form: the rule builder's conditions (entry criteria) and actions
(each marked "when approved" or "when rejected"), plus numbered approver steps
(`step-<n>-approvers`, `-users`, `-mode`, `-name`). Admins never type JSON."""

from __future__ import annotations

from dataclasses import dataclass

from accounts.roles import Role

from ..workflows.builder import Builder, _count, _groups_of, _remove_row, action_inputs
from .models import ApprovalProcess
from .services import OUTCOME_EXCLUDED

OUTCOMES = ("on_approved", "on_rejected")


@dataclass
class ProcessBuilder(Builder):
    steps: int = 1

    @classmethod
    def from_process(cls, process: ApprovalProcess) -> ProcessBuilder:
        data = {
            "name": process.name,
            "description": process.description,
            "entity": process.entity,
            "is_enabled": "on" if process.is_enabled else "",
            "position": str(process.position),
            "remind_after_hours": str(process.remind_after_hours),
        }
        groups, kept = _groups_of(process.conditions or {"all": []}, data)
        actions = [(a, "approved") for a in process.on_approved]
        actions += [(a, "rejected") for a in process.on_rejected]
        for i, (action, when) in enumerate(actions):
            action_inputs(data, i, action)
            data[f"act-{i}-when"] = when
        for i, step in enumerate(process.steps):
            data[f"step-{i}-name"] = step.get("name", "")
            data[f"step-{i}-approvers"] = step["approvers"]
            data[f"step-{i}-users"] = ",".join(str(pk) for pk in step.get("users", []))
            data[f"step-{i}-mode"] = step.get("mode", "any")
        builder = cls(process.entity, data, groups, max(len(actions), 1))
        builder.steps = max(len(process.steps), 1)
        builder.kept_conditions = kept
        return builder

    @classmethod
    def from_post(cls, post, *, entity: str | None = None) -> ProcessBuilder:
        if entity is None:
            wanted = post.get("entity", "")
            entity = wanted if wanted in ApprovalProcess.Entity.values else "deal"
        change = post.get("_change", "")
        builder = super().from_post(post, entity=entity)
        steps = max(_count(post, "step"), 1)
        for i in range(steps):  # a multiple select posts one value per user
            builder.data[f"step-{i}-users"] = ",".join(post.getlist(f"step-{i}-users"))
        if change == "add-step":
            steps += 1
        elif change.startswith("remove-step-"):
            builder.data = _remove_row(builder.data, "step-", steps, int(change.rsplit("-", 1)[1]))
            steps -= 1
        builder.steps = max(steps, 1)
        return builder

    def process_data(self) -> dict:
        """The services' input: the rule builder's definition without its trigger, the
        actions split by outcome, and the steps."""
        definition = self.definition()
        get = self.data.get
        outcome = {key: [] for key in OUTCOMES}
        self._outcome_rows = {key: [] for key in OUTCOMES}
        rows = [i for i in range(self.actions) if get(f"act-{i}-type")]  # as definition() skips
        for row, action in zip(rows, definition["actions"], strict=True):
            key = "on_rejected" if get(f"act-{row}-when") == "rejected" else "on_approved"
            outcome[key].append(action)
            self._outcome_rows[key].append(row)
        steps = []
        for i in range(self.steps):
            approvers = get(f"step-{i}-approvers", "")
            if not approvers:
                continue
            step = {"name": get(f"step-{i}-name", ""), "approvers": approvers}
            step["mode"] = get(f"step-{i}-mode") or "any"
            if approvers == "users":
                raw = get(f"step-{i}-users", "")
                step["users"] = [int(pk) for pk in raw.split(",") if pk.strip().isdigit()]
            steps.append(step)
        return {
            "name": definition["name"],
            "description": definition["description"],
            "entity": self.entity,
            "is_enabled": definition["is_enabled"],
            "position": _number(get("position", "0")),
            "remind_after_hours": _number(get("remind_after_hours", "24")),
            "conditions": definition["conditions"],
            "steps": steps,
            **outcome,
        }

    def set_errors(self, errors: dict) -> None:
        """The services' errors, with outcome actions' keys turned back into form rows."""
        rows = getattr(self, "_outcome_rows", {})
        mapped = {}
        for where, messages in errors.items():
            head, _dot, rest = where.partition(".")
            index, _dot, tail = rest.partition(".")
            if head in OUTCOMES and index.isdigit() and int(index) < len(rows.get(head, [])):
                where = ".".join(filter(None, ("actions", str(rows[head][int(index)]), tail)))
            mapped[where] = messages
        self.errors = mapped

    def context(self) -> dict:
        context = super().context()
        get = self.data.get
        users = context["users"]
        context.update(
            outcome=True,
            entities=ApprovalProcess.Entity.choices,
            action_types=[
                (key, label)
                for key, label in context["action_types"]
                if key not in OUTCOME_EXCLUDED
            ],
            step_rows=[
                {
                    "index": i,
                    "name": get(f"step-{i}-name", ""),
                    "approvers": get(f"step-{i}-approvers", "owner_manager"),
                    "users": get(f"step-{i}-users", "").split(","),
                    "mode": get(f"step-{i}-mode", "any"),
                    "errors": self._row_errors("steps", i),
                }
                for i in range(self.steps)
            ],
            roles=Role.choices,
            users=users,
            other_errors={
                k: v
                for k, v in self.errors.items()
                if not k.startswith(("conditions.", "actions.", "steps."))
            },
        )
        return context


def _number(raw: str):
    try:
        return int(raw)
    except ValueError:
        return raw  # the services say a whole number is needed
