from .workflows.models import (  # noqa: F401 - the app's models live in its subpackages
    WorkflowRule,
    WorkflowRuleVersion,
    WorkflowRun,
    WorkflowStep,
    WorkflowSweep,
)
