"""Assignment rules: who gets a record nobody chose an owner for (create, import, release).

Rules are tried in order for the record's kind; a rule matches when it has no region or
the record's region. Within the rule's team, active members take turns (round-robin from
the last one assigned), skipping anyone at the rule's capacity of open records.
"""

from __future__ import annotations

from django.db import transaction

from accounts.models import User

from ..models import AssignmentRule, Customer, Lead

_OPEN_RECORDS = {
    AssignmentRule.Entity.LEAD: lambda user: (
        Lead.objects.filter(owner=user)
        .exclude(status__in=[Lead.Status.CONVERTED, Lead.Status.UNQUALIFIED])
        .count()
    ),
    AssignmentRule.Entity.CUSTOMER: lambda user: Customer.objects.filter(owner=user).count(),
}


def assignee_for(*, entity: str, region_id: int | None) -> User | None:
    """The next owner by the first matching rule with someone under capacity, or None.

    Locks the rule row so concurrent creates take turns rather than pick the same person.
    """
    with transaction.atomic():
        rules = (
            AssignmentRule.objects.select_for_update()
            .filter(entity=entity, is_active=True)
            .order_by("position", "id")
        )
        for rule in rules:
            if rule.region_id and rule.region_id != region_id:
                continue
            members = list(User.objects.filter(team_id=rule.team_id, is_active=True).order_by("id"))
            if not members:
                continue
            start = next((i + 1 for i, m in enumerate(members) if m.pk == rule.last_assigned_id), 0)
            for offset in range(len(members)):
                candidate = members[(start + offset) % len(members)]
                if rule.capacity is None or _OPEN_RECORDS[entity](candidate) < rule.capacity:
                    rule.last_assigned = candidate
                    rule.save(update_fields=["last_assigned", "updated_at"])
                    return candidate
    return None
