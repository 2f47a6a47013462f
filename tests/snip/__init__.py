"""Snip: a made-up clip provider that lives only in tests (its module and its simulator), to
prove a provider plugs into Reelbot without any change in bot/."""
