"""DeepBrain AI Studios V3's wire format: constants, models, the create body, errors as sentences.

Sources: the seed document and DeepBrain-AI/docs (versioned_docs/version-1.6.x/aistudioV3), see
shared/providers.md section 2. Every answer is an envelope `{success, data, error: {code, msg}}`
and the official samples check `success`, so both it and the HTTP status are read.

The video API documents no error codes at all. The table below follows the one family DeepBrain
does document, for its Interactive Avatar API: 4000 validation, 4010 token or credential, 4030
forbidden, 4040 not found, 4290 rate limited, 5000 internal (the HTTP status times ten). The
finer codes in that family (4011, 4012, 4031, 4032, 4041-4043) are assumed; an unknown code
falls back on the HTTP status, and then on a sentence naming the status.
"""

from __future__ import annotations

import email.utils
import math
import time
from typing import Annotated, Any, Literal, TypeVar

import httpx
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError

from providers.base import BadInput, Failed, NeedsAdmin, ProviderError, RateLimited, Unavailable

# --- constants ------------------------------------------------------------------------------
NAME = "aistudios"
LABEL = "AI Studios"
DEFAULT_BASE_URL = "https://app.aistudios.com"
CHINA_BASE_URL = "https://app.aistudios.cn"

TOKEN_PATH = "/api/odin/v3/auth/token"  # noqa: S105 - a path, not a secret
MODELS_PATH = "/api/odin/v3/model"
CREATE_PATH = "/api/odin/v3/editor/project"
PROGRESS_PATH = "/api/odin/v3/editor/progress/{project_id}"
PROJECT_PATH = "/api/odin/v3/editor/project/{project_id}"

# auth.md: "the validity of the token is 1 day (24 hours from the time of issuance)".
TOKEN_LIFE_SECONDS = 24 * 3600.0
# Undocumented: Slack's modal input holds 3,000 characters and a command 2,000; 2,000 is also
# about two to three minutes of speech, a sane size for one scene.
DEFAULT_MAX_SCRIPT_CHARS = 2000
# Undocumented: downloadUrl looks like a signed link of unknown life; assumed a day. Asking
# for progress again hands out a fresh one.
DEFAULT_LINK_TTL_HOURS = 24.0
RESOLUTIONS = ("4k", "1080", "720", "480")
Resolution = Literal["4k", "1080", "720", "480"]
DEFAULT_RESOLUTION: Resolution = "1080"
ORIENTATIONS = ("landscape", "portrait")
DEFAULT_BACKGROUND = "#FFFFFF"
DEFAULT_PROJECT_NAME = "Reelbot avatar video"
RATE_LIMIT_RETRY_AFTER = 60.0
DONE_PROGRESS = 100.0
# Only "exported" is documented (get-projects); a failed render's state is assumed.
FAILED_STATES = frozenset({"failed", "fail", "error"})

# The background's source_type: only "image" appears in the documents; "color" (with
# source_color) is assumed to be the plain-colour variant the editor offers.
BACKGROUND_SOURCE_TYPE = "color"
# The canvas each orientation renders on (assumed Full HD) and the avatar's width for its
# height, from the reference sample's model origin (1374 x 2444).
CANVAS: dict[str, tuple[int, int]] = {"landscape": (1920, 1080), "portrait": (1080, 1920)}
AVATAR_ASPECT = 1374 / 2444
AVATAR_CLIP_ID = "aiModel-reelbot"

Orientation = Literal["landscape", "portrait"]


# --- models ---------------------------------------------------------------------------------
def _code(value: Any) -> str | None:
    """An envelope code as text: the documents never say whether it is a number or a string."""
    if isinstance(value, bool) or value is None:
        return None
    if isinstance(value, int | str):
        text = str(value).strip()
        return text or None
    return None


def _error(value: Any) -> Any:
    return {"msg": value} if isinstance(value, str) else value


def _label(value: Any) -> Any:
    return {"en": value} if isinstance(value, str) else value


def _id(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _progress(value: Any) -> float:
    if isinstance(value, bool):
        return 0.0
    if isinstance(value, str):
        try:
            value = float(value.strip())
        except ValueError:
            return 0.0
    if isinstance(value, int | float) and math.isfinite(value):
        return max(0.0, min(DONE_PROGRESS, float(value)))
    return 0.0


def _blank_none(value: Any) -> Any:
    return None if isinstance(value, str) and not value.strip() else value


class EnvelopeError(BaseModel):
    code: Annotated[str | None, BeforeValidator(_code)] = None
    msg: Any = None


class Envelope(BaseModel):
    success: bool
    data: Any = None
    error: Annotated[EnvelopeError | None, BeforeValidator(_error)] = None


class Label(BaseModel):
    ko: str | None = None
    en: str | None = None

    def text(self, fallback: str) -> str:
        return (self.en or "").strip() or (self.ko or "").strip() or fallback


_Label = Annotated[Label, BeforeValidator(_label)]
_Id = Annotated[str, BeforeValidator(_id), Field(min_length=1)]
_Url = Annotated[str | None, BeforeValidator(_blank_none)]


class Cloth(BaseModel):
    id: _Id
    label: _Label = Field(default_factory=Label)
    thumbnail: _Url = None


class AvatarModel(BaseModel):
    id: _Id
    label: _Label = Field(default_factory=Label)
    thumbnail: _Url = None
    clothes: list[Cloth] = Field(default_factory=list)


class ModelList(BaseModel):
    models: list[AvatarModel] = Field(default_factory=list)


class TokenData(BaseModel):
    token: Annotated[str, Field(min_length=1)]


class CreateData(BaseModel):
    project_id: _Id = Field(alias="projectId")


class ProgressData(BaseModel):
    progress: Annotated[float, BeforeValidator(_progress)] = 0.0
    download_url: _Url = Field(default=None, alias="downloadUrl")
    state: str | None = None


class ProjectInfo(BaseModel):
    name: str | None = None
    thumbnail_url: _Url = Field(default=None, alias="thumbnailUrl")
    state: str | None = None


class ProjectData(BaseModel):
    project: ProjectInfo


class AIStudiosRequest(BaseModel):
    """What one avatar video needs; the create body is built from it when it is sent."""

    model_config = ConfigDict(populate_by_name=True, frozen=True)

    script: Annotated[str, Field(min_length=1)]
    model_id: Annotated[str, Field(min_length=1, alias="modelId")]
    cloth_id: Annotated[str, Field(min_length=1, alias="clothId")]
    background: Annotated[str, Field(pattern=r"^#[0-9A-F]{6}$")] = DEFAULT_BACKGROUND
    orientation: Orientation = "landscape"
    title: str | None = Field(default=None, alias="name")


# --- the create body ------------------------------------------------------------------------
def rgb(hex_colour: str) -> str:
    """#RRGGBB -> "rgb(r,g,b)", the form the documents give source_color in."""
    digits = hex_colour.lstrip("#")
    red, green, blue = (int(digits[i : i + 2], 16) for i in (0, 2, 4))
    return f"rgb({red},{green},{blue})"


def avatar_clip(request: AIStudiosRequest) -> dict[str, Any]:
    """The scene's one aiModel clip: full height, centred. `model.ai_name` is the avatar and
    `model.emotion` the outfit; they must equal the script's modelId and clothId."""
    canvas_w, canvas_h = CANVAS[request.orientation]
    width = min(canvas_w, round(canvas_h * AVATAR_ASPECT))
    return {
        "id": AVATAR_CLIP_ID,
        "name": AVATAR_CLIP_ID,
        "type": "aiModel",
        "layer": 1,
        "top": 0,
        "left": (canvas_w - width) / 2,
        "width": width,
        "height": canvas_h,
        "scaleX": 1,
        "scaleY": 1,
        "model": {"ai_name": request.model_id, "emotion": request.cloth_id},
    }


def project_body(
    request: AIStudiosRequest,
    *,
    resolution: str = DEFAULT_RESOLUTION,
    workspace_id: str | None = None,
    webhook_url: str | None = None,
) -> dict[str, Any]:
    """POST /editor/project: one scene, exported at once (create-project.md, version 1.6.x)."""
    scene = {
        "sceneIdx": 0,
        "background": {
            "id": "background",
            "type": "background",
            "source_type": BACKGROUND_SOURCE_TYPE,
            "source_color": rgb(request.background),
        },
        # The avatar's own voice: isTTS false and tts null, as the reference prescribes.
        "scripts": [
            {
                "org": request.script,
                "isTTS": False,
                "tts": None,
                "modelId": request.model_id,
                "clothId": request.cloth_id,
            }
        ],
        "clips": [avatar_clip(request)],
    }
    body: dict[str, Any] = {
        "name": request.title or DEFAULT_PROJECT_NAME,
        "orientation": request.orientation,
        "isExport": True,
        "resolution": resolution,
        "scenes": [scene],
    }
    if workspace_id:
        body["workspaceId"] = workspace_id
    if webhook_url:
        body["webhookUrl"] = webhook_url
    return body


# --- errors ---------------------------------------------------------------------------------
CREDENTIALS = "4012"
CODES: dict[str, tuple[type[ProviderError], str]] = {
    "4000": (
        BadInput,
        "AI Studios rejected the video request as invalid, so check the script, avatar and "
        "outfit and try again.",
    ),
    "4010": (
        NeedsAdmin,
        "AI Studios refused Reelbot's access token even after renewing it, so a workspace admin "
        "must check AISTUDIOS_APP_ID and AISTUDIOS_USER_KEY.",
    ),
    "4011": (
        NeedsAdmin,
        "AI Studios still called Reelbot's access token expired after renewing it, so a "
        "workspace admin must check the server clock and the AI Studios API key.",
    ),
    CREDENTIALS: (
        NeedsAdmin,
        "AI Studios did not accept the app id and user key, so a workspace admin must check "
        "AISTUDIOS_APP_ID and AISTUDIOS_USER_KEY on the AI Studios API key page.",
    ),
    "4030": (
        NeedsAdmin,
        "AI Studios refused this request for Reelbot's account, so a workspace admin must check "
        "that the account may use the API.",
    ),
    "4031": (
        NeedsAdmin,
        "The AI Studios account's plan does not include the API, so a workspace admin must "
        "subscribe to a Pro or higher plan.",
    ),
    "4032": (
        NeedsAdmin,
        "The AI Studios account has run out of credits, so a workspace admin must add credits "
        "or upgrade the plan.",
    ),
    "4040": (
        BadInput,
        "AI Studios could not find the avatar, outfit or project this request names, so pick "
        "the avatar and outfit again.",
    ),
    "4041": (Failed, "AI Studios no longer has this video project, so make the video again."),
    "4042": (BadInput, "AI Studios does not offer this avatar, so pick another one from the list."),
    "4043": (
        BadInput,
        "AI Studios does not offer this outfit for the chosen avatar, so pick another outfit.",
    ),
    "4290": (
        RateLimited,
        "AI Studios is limiting Reelbot's requests for now, so Reelbot will try again shortly.",
    ),
    "5000": (Unavailable, "AI Studios had an internal problem; Reelbot will keep trying."),
}
# Codes that say the token (not the account) is the problem: drop it, renew once, resend.
TOKEN_REFUSED = frozenset({"4010", "4011"})
STATUS_CODES = {400: "4000", 401: "4010", 403: "4030", 404: "4040", 422: "4000", 429: "4290"}
PROJECT_GONE = frozenset({"4040", "4041"})
RENDER_FAILED = (
    "AI Studios could not render this video, so try again with another avatar or outfit."
)


def retry_after(response: httpx.Response) -> float:
    """Retry-After in seconds or as an HTTP date; a minute when absent or unreadable."""
    raw = response.headers.get("Retry-After", "").strip()
    if not raw:
        return RATE_LIMIT_RETRY_AFTER
    try:
        seconds = float(raw)
    except ValueError:
        try:
            seconds = email.utils.parsedate_to_datetime(raw).timestamp() - time.time()
        except (TypeError, ValueError):
            return RATE_LIMIT_RETRY_AFTER
    return max(1.0, seconds) if math.isfinite(seconds) else RATE_LIMIT_RETRY_AFTER


def error_for(
    code: str | None, status: int, *, wait: float = RATE_LIMIT_RETRY_AFTER, exchange: bool = False
) -> ProviderError:
    """The error for an envelope code (or, when it is unknown, the HTTP status). On the token
    exchange any credential refusal means the app id or user key."""
    known = code if code in CODES else STATUS_CODES.get(status)
    if exchange and known in TOKEN_REFUSED:
        known = CREDENTIALS
    if known is None:
        shown = f"HTTP {status}" + (f", code {code}" if code else "")
        return Failed(f"AI Studios could not make this video ({shown}).", code=code or str(status))
    cls, sentence = CODES[known]
    if cls is RateLimited:
        return RateLimited(sentence, retry_after=wait, code=code or known)
    return cls(sentence, code=code or known)


def unreadable() -> Unavailable:
    return Unavailable(
        "AI Studios sent an answer Reelbot could not read; Reelbot will keep trying.",
        code="malformed",
    )


def token_refused(response: httpx.Response) -> bool:
    """Whether an answer says the token is invalid or expired (HTTP 401 or its codes)."""
    if response.status_code == httpx.codes.UNAUTHORIZED:
        return True
    try:
        envelope = Envelope.model_validate_json(response.content)
    except ValidationError:
        return False
    return envelope.error is not None and envelope.error.code in TOKEN_REFUSED


_M = TypeVar("_M", bound=BaseModel)


def read(response: httpx.Response, model: type[_M], *, exchange: bool = False) -> _M:
    """The envelope's `data` as `model`, or the error its status and `success` say."""
    status = response.status_code
    wait = retry_after(response)
    try:
        envelope = Envelope.model_validate_json(response.content)
    except ValidationError:
        if status >= 300:
            raise error_for(None, status, wait=wait, exchange=exchange) from None
        # `from None`: the validation error quotes the body, which must not reach the logs.
        raise unreadable() from None
    if not envelope.success or status >= 300:
        code = envelope.error.code if envelope.error is not None else None
        raise error_for(code, status, wait=wait, exchange=exchange)
    try:
        return model.model_validate(envelope.data)
    except ValidationError:
        raise unreadable() from None
