from .workflows.models import (  # noqa: F401 - the app's models live in its subpackages
    WorkflowRoundRobin,
    WorkflowRule,
    WorkflowRuleVersion,
    WorkflowRun,
    WorkflowStep,
    WorkflowSweep,
)
