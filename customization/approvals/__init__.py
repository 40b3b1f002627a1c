"""Approval processes: entry criteria, approver steps (the owner's manager, a role, named
users; any one or all of them), outcome actions and reminders, on top of the one
approval mechanism in `crm_core/services/approvals.py`."""
