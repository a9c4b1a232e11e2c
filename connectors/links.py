"""Which links a comment from a file import may carry: https links to the platforms' own sites.

An export file can say anything, and the email promises that its links go only
to the platforms. So a link is kept only when it is https on the default port,
carries no user name, and its host, converted to its ASCII (IDNA) form, is
exactly one of ``PLATFORM_LINK_HOSTS``. A look-alike written with Cyrillic
letters has a different ASCII form (``xn--...``) and is refused.
"""

from __future__ import annotations

from urllib.parse import urlsplit

PLATFORM_LINK_HOSTS = frozenset(
    {
        "facebook.com", "www.facebook.com", "m.facebook.com", "web.facebook.com", "fb.com", "www.fb.com",
        "instagram.com", "www.instagram.com",
        "youtube.com", "www.youtube.com", "m.youtube.com", "youtu.be",
        "x.com", "www.x.com", "twitter.com", "www.twitter.com", "mobile.twitter.com",
        "linkedin.com", "www.linkedin.com",
        "bsky.app",
    }
)  # fmt: skip


def link_host(url: str) -> str | None:
    """The ASCII host of an https link fit to follow, or None for anything else."""
    if any(character.isspace() or not character.isprintable() for character in url):
        return None
    try:
        parts = urlsplit(url)
        port = parts.port
        host = (parts.hostname or "").rstrip(".")
        ascii_host = host.encode("idna").decode("ascii").lower()
    except (ValueError, UnicodeError):
        return None
    if parts.scheme.lower() != "https" or parts.username or parts.password or port not in (None, 443):
        return None
    return ascii_host or None


def is_platform_link(url: str) -> bool:
    return link_host(url) in PLATFORM_LINK_HOSTS


def shown_host(url: str) -> str:
    """Where a refused link pointed, for the note that says it was dropped."""
    try:
        host = urlsplit(url).hostname
    except ValueError:
        host = None
    return host.encode("ascii", "backslashreplace").decode("ascii") if host else "an unreadable address"
