"""Vizard.ai: one long video in, short clips out.

`api` is Vizard's wire format (models and codes), `form` how a request is asked for in Slack,
`provider` the provider itself with its settings group; `PLUGIN` is the registry's line.
"""

from providers.vizard.api import (
    CODES,
    DEFAULT_BASE_URL,
    LABEL,
    NAME,
    RATE_WINDOWS,
    VizardClip,
    VizardRequest,
    classify_url,
    error_for,
)
from providers.vizard.form import FORM, build_request
from providers.vizard.provider import PLUGIN, VizardProvider, VizardSettings

__all__ = [
    "CODES",
    "DEFAULT_BASE_URL",
    "FORM",
    "LABEL",
    "NAME",
    "PLUGIN",
    "RATE_WINDOWS",
    "VizardClip",
    "VizardProvider",
    "VizardRequest",
    "VizardSettings",
    "build_request",
    "classify_url",
    "error_for",
]
