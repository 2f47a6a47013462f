"""HeyGen: an avatar video from a script.

`api` is HeyGen's wire format (paths, bodies, models), `errors` what its error answers mean,
`form` how a request is asked for in Slack, `catalog` its looks and voices as choices,
`webhooks` the signature check, `provider` the provider itself with its settings group;
`PLUGIN` is the registry's line.
"""

from providers.heygen.api import DEFAULT_BASE_URL, LABEL, NAME, HeyGenRequest
from providers.heygen.errors import ERRORS, error_from_response, failure_error
from providers.heygen.form import FORM, build_request, form_for
from providers.heygen.provider import PLUGIN, HeyGenProvider, HeyGenSettings

__all__ = [
    "DEFAULT_BASE_URL",
    "ERRORS",
    "FORM",
    "LABEL",
    "NAME",
    "PLUGIN",
    "HeyGenProvider",
    "HeyGenRequest",
    "HeyGenSettings",
    "build_request",
    "error_from_response",
    "failure_error",
    "form_for",
]
