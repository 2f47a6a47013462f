"""Every callback_id, action_id, block_id and metadata name the app uses, in one place.

A provider's form fields use their own names as block and action ids (see bot/modals.py).
"""

# The modal of every kind; which kind and provider it is for travels in private_metadata.
REQUEST_MODAL = "request_modal"
# The provider select at the top of a modal when a kind has several providers.
PROVIDER_BLOCK = "provider"
PROVIDER_ACTION = "provider_choice"
# The one checkbox group every on/off field of a form is shown in.
SWITCHES_BLOCK = "switches"
# The uploaded video a modal opened from a message shortcut is about.
FILE_BLOCK = "source_file"

# The value of an entry in a searchable list that only explains (the list is still loading).
NO_CHOICE = "-"

CANCEL_ACTION = "job_cancel"
CONFIRM_ACTION = "job_confirm"
FRESH_LINK_ACTION = "result_fresh_link"

# Message metadata on every message Reelbot posts for a job, so a post whose answer was lost
# can be found in the channel again: event_payload {"job": job id, "key": delivery key}.
POST_EVENT = "reelbot_post"

# The workspace settings' buttons (App Home and `/reel settings`), for admins; their value
# says where the click came from ("home" or "reel").
CHANNEL_PRESETS_ACTION = "reel_channel_presets"
PROVIDER_KEYS_ACTION = "reel_provider_keys"

# The channel preset editor (opened by CHANNEL_PRESETS_ACTION and `/reel preset`): its modal,
# its channel picker and kind select, and its button that clears the preset.
PRESET_MODAL = "preset_modal"
PRESET_CHANNEL_BLOCK = "preset_channel"
PRESET_CHANNEL_ACTION = "preset_channel_choice"
PRESET_KIND_BLOCK = "preset_kind"
PRESET_KIND_ACTION = "preset_kind_choice"
PRESET_CLEAR_ACTION = "preset_clear"
