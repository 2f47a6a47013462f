"""Every callback_id, action_id and block_id the app uses, in one place."""

CLIP_COMMAND = "/clip"

CLIP_MODAL = "clip_modal"
CANCEL_ACTION = "job_cancel"

# Clip modal inputs: block_id and action_id are the same string.
URL_BLOCK = "url"
LANG_BLOCK = "lang"
LENGTH_BLOCK = "length"
SWITCHES_BLOCK = "switches"
NAME_BLOCK = "name"

SUBTITLES_OPTION = "subtitles"
HEADLINE_OPTION = "headline"
