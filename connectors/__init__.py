"""Connectors: one module per platform over the shared HTTP layer."""

from __future__ import annotations

from importlib import import_module

from connectors.base import AccountSettings, Batch, Comment, Connector
from connectors.errors import AuthError, ConnectorError, FatalError, RetryableError

# platform name -> "module:Class"; imported on first use so a broken or
# unused connector never slows or breaks start-up for the others.
PLATFORMS: dict[str, str] = {
    "file": "connectors.file:FileConnector",
    "facebook": "connectors.facebook:FacebookConnector",
    "instagram": "connectors.instagram:InstagramConnector",
    "youtube": "connectors.youtube:YouTubeConnector",
    "x": "connectors.x:XConnector",
    "linkedin": "connectors.linkedin:LinkedInConnector",
    "mastodon": "connectors.mastodon:MastodonConnector",
    "bluesky": "connectors.bluesky:BlueskyConnector",
    "wordpress": "connectors.wordpress:WordPressConnector",
}


def connector_class(platform: str) -> type[Connector]:
    try:
        module_name, class_name = PLATFORMS[platform].split(":")
    except KeyError:
        known = ", ".join(sorted(PLATFORMS))
        raise ValueError(f"unknown platform {platform!r} (known: {known})") from None
    cls: type[Connector] = getattr(import_module(module_name), class_name)
    return cls


__all__ = [
    "PLATFORMS",
    "AccountSettings",
    "AuthError",
    "Batch",
    "Comment",
    "Connector",
    "ConnectorError",
    "FatalError",
    "RetryableError",
    "connector_class",
]
