"""Which providers this deployment offers: one line per provider, only those with a key."""

from __future__ import annotations

from bot.settings import Settings
from providers.base import Provider, RateWindow
from providers.vizard import VizardProvider


def build_providers(settings: Settings) -> dict[str, Provider]:
    providers: dict[str, Provider] = {}
    if settings.vizard_api_key is not None:
        providers["vizard"] = VizardProvider(
            settings.vizard_api_key.get_secret_value(),
            str(settings.vizard_base_url).rstrip("/"),
            rate_windows=(
                RateWindow(60, settings.vizard_per_minute),
                RateWindow(3600, settings.vizard_per_hour),
            ),
            link_ttl_seconds=settings.vizard_link_ttl_hours * 3600,
            first_poll_after=settings.poll_min_seconds,
            timeout=settings.vizard_timeout_seconds,
        )
    return providers
