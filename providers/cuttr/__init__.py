"""Cuttr: AI clipping paid per clip from a team wallet.

`api` is Cuttr's wire format (paths, options, the request), `errors` what its error answers
mean, `form` how a request is asked for in Slack, `provider` the provider itself with its
settings group; `PLUGIN` is the registry's line.
"""

from providers.cuttr.api import DEFAULT_BASE_URL, LABEL, NAME, PRICE_CENTS_PER_CLIP, CuttrRequest
from providers.cuttr.errors import ERRORS, error_from_response
from providers.cuttr.form import FORM, build_request
from providers.cuttr.provider import PLUGIN, CuttrProvider, CuttrSettings

__all__ = [
    "DEFAULT_BASE_URL",
    "ERRORS",
    "FORM",
    "LABEL",
    "NAME",
    "PLUGIN",
    "PRICE_CENTS_PER_CLIP",
    "CuttrProvider",
    "CuttrRequest",
    "CuttrSettings",
    "build_request",
    "error_from_response",
]
