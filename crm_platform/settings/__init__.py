"""Settings, split by concern. Each module reads the environment through `env.env`;
each integration stays off until its variable is set. See docs/configuration.md."""

from .api import *  # noqa: F403
from .auth import *  # noqa: F403
from .background import *  # noqa: F403
from .billing import *  # noqa: F403
from .core import *  # noqa: F403
from .database import *  # noqa: F403
from .observability import *  # noqa: F403
from .security import *  # noqa: F403
from .tenancy import *  # noqa: F403
from .webhooks import *  # noqa: F403
