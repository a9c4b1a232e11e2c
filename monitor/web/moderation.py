"""Hiding and unhiding a comment on its platform, with the account's own token.

Where a platform can hide a comment on the organisation's own content:

- Facebook Page comments: ``POST /{comment-id}`` with ``is_hidden`` (Page token with pages_manage_engagement).
- Instagram: ``POST /{ig-comment-id}`` with ``hide`` (instagram_manage_comments).
- YouTube: ``POST comments/setModerationStatus`` with ``heldForReview`` (``published`` to unhide); needs
  an OAuth access token of the channel's owner, not an API key.
- X: ``PUT /2/tweets/{id}/hidden`` with ``{"hidden": true}`` for a reply to the account's own post; needs a
  user-context token with tweet.moderate.write (an app-only bearer token is refused).
- WordPress: ``POST /wp/v2/comments/{id}`` with ``status=hold`` (``approved`` to unhide); needs the
  application password.

Where it cannot, ``HideUnsupportedError`` says why in words for the General Manager.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from connectors import Connector, ConnectorError

CANNOT_HIDE = {
    "linkedin": "LinkedIn's API can delete a comment on the organisation's post but cannot hide it.",
    "mastodon": "Mastodon cannot hide someone else's reply; mute, block or report them on the server.",
    "bluesky": "Bluesky hides a reply by changing the post's thread settings, which the monitor does not do.",
    "file": "Imported comments are not on a platform the monitor can reach.",
}


class HideUnsupportedError(Exception):
    """This account cannot hide comments through the monitor; the message says why."""


class HideFailedError(Exception):
    """The platform refused or failed; the message says what it answered (no tokens)."""


def can_hide(connector: Connector) -> str | None:
    """None when this account can hide comments; otherwise why not."""
    platform = connector.platform
    if platform in CANNOT_HIDE:
        return CANNOT_HIDE[platform]
    settings: Any = connector.settings
    if platform == "youtube" and getattr(settings, "access_token", None) is None:
        return "This YouTube account is read with an API key; hiding needs the channel owner's access token."
    if platform == "wordpress" and getattr(settings, "application_password", None) is None:
        return "This WordPress site is read without an application password, which holding a comment needs."
    if platform not in _HIDERS:
        return f"Hiding is not available for {platform}."
    return None


def set_hidden(connector: Connector, external_id: str, hidden: bool) -> None:
    """Hide (or unhide) one comment; raises HideUnsupportedError or HideFailedError."""
    reason = can_hide(connector)
    if reason is not None:
        raise HideUnsupportedError(reason)
    try:
        _HIDERS[connector.platform](connector, external_id, hidden)
    except ConnectorError as exc:
        raise HideFailedError(str(exc)) from None


def _graph_path(connector: Connector, external_id: str) -> str:
    return f"{connector.settings.api_version}/{external_id}"  # type: ignore[attr-defined]


def _facebook(connector: Connector, external_id: str, hidden: bool) -> None:
    answer, _ = connector.http.fetch_json(
        "POST", _graph_path(connector, external_id), params={"is_hidden": "true" if hidden else "false"}
    )
    _expect_success(answer)


def _instagram(connector: Connector, external_id: str, hidden: bool) -> None:
    answer, _ = connector.http.fetch_json(
        "POST", _graph_path(connector, external_id), params={"hide": "true" if hidden else "false"}
    )
    _expect_success(answer)


def _youtube(connector: Connector, external_id: str, hidden: bool) -> None:
    status = "heldForReview" if hidden else "published"
    connector.http.request(
        "POST", "comments/setModerationStatus", params={"id": external_id, "moderationStatus": status}
    )


def _x(connector: Connector, external_id: str, hidden: bool) -> None:
    answer, _ = connector.http.fetch_json("PUT", f"tweets/{external_id}/hidden", json={"hidden": hidden})
    data = answer.get("data") if isinstance(answer, dict) else None
    if not isinstance(data, dict) or data.get("hidden") != hidden:
        raise HideFailedError("X did not confirm the change")


def _wordpress(connector: Connector, external_id: str, hidden: bool) -> None:
    answer, _ = connector.http.fetch_json(
        "POST", f"wp-json/wp/v2/comments/{external_id}", json={"status": "hold" if hidden else "approved"}
    )
    expected = "hold" if hidden else "approved"
    if not isinstance(answer, dict) or answer.get("status") != expected:
        raise HideFailedError(f"WordPress did not set the comment to {expected}")


def _expect_success(answer: Any) -> None:
    if not isinstance(answer, dict) or answer.get("success") is not True:
        raise HideFailedError("the platform did not confirm the change")


_HIDERS: dict[str, Callable[[Connector, str, bool], None]] = {
    "facebook": _facebook,
    "instagram": _instagram,
    "youtube": _youtube,
    "x": _x,
    "wordpress": _wordpress,
}
