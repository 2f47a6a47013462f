"""DeepBrain AI Studios V3: a script in, an avatar video out.

`api` is AI Studios' wire format (paths, models, the create body, errors), `form` how a request
is asked for in Slack, `auth` the shared access token, `provider` the provider itself with its
settings group; `PLUGIN` is the registry's line.
"""

from providers.aistudios.api import (
    CHINA_BASE_URL,
    CODES,
    DEFAULT_BASE_URL,
    LABEL,
    NAME,
    AIStudiosRequest,
    error_for,
    project_body,
)
from providers.aistudios.auth import TokenAuth, exchange_token
from providers.aistudios.form import FORM, build_request, form_for
from providers.aistudios.provider import PLUGIN, AIStudiosProvider, AIStudiosSettings

__all__ = [
    "CHINA_BASE_URL",
    "CODES",
    "DEFAULT_BASE_URL",
    "FORM",
    "LABEL",
    "NAME",
    "PLUGIN",
    "AIStudiosProvider",
    "AIStudiosRequest",
    "AIStudiosSettings",
    "TokenAuth",
    "build_request",
    "error_for",
    "exchange_token",
    "form_for",
    "project_body",
]
