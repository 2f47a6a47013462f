"""ViddyScribe: audio descriptions of a video, as text files, an audio track or a video.

`api` is ViddyScribe's wire format (paths, the request, response models, refs, links),
`errors` what its error answers mean, `form` how a request is asked for in Slack, `upload`
how a file's bytes reach it, `provider` the provider itself with its settings group; `PLUGIN`
is the registry's line.
"""

from providers.base import MediaFile
from providers.viddyscribe.api import (
    DEFAULT_BASE_URL,
    LABEL,
    MULTIPART_MAX_BYTES,
    NAME,
    ViddyScribeRequest,
    job_ref,
    link_expiry,
    parse_ref,
)
from providers.viddyscribe.errors import ERRORS, error_from_response, failure_error
from providers.viddyscribe.form import CATEGORIES, FORM, LANGUAGES, build_request, form_for
from providers.viddyscribe.provider import PLUGIN, ViddyScribeProvider, ViddyScribeSettings

__all__ = [
    "CATEGORIES",
    "DEFAULT_BASE_URL",
    "ERRORS",
    "FORM",
    "LABEL",
    "LANGUAGES",
    "MULTIPART_MAX_BYTES",
    "NAME",
    "PLUGIN",
    "MediaFile",
    "ViddyScribeProvider",
    "ViddyScribeRequest",
    "ViddyScribeSettings",
    "build_request",
    "error_from_response",
    "failure_error",
    "form_for",
    "job_ref",
    "link_expiry",
    "parse_ref",
]
