"""The API version each platform is called with, in one place.

Each is the default of that platform's version setting, so an operator can
move one account to a newer version in the config without a new release.
Platforms that answer an unsupported version with an error (LinkedIn's 426)
have it turned into an auth error that names the setting.

- Graph API (Facebook, Instagram): each version is available for at least two
  years after its release; calls to a retired version are upgraded by Meta.
- LinkedIn (``LinkedIn-Version``, YYYYMM): each monthly version is supported for
  at least a year, then answered with 426.
- YouTube Data API v3, Mastodon ``api/v1``/``v2``, WordPress ``wp/v2``, X ``2``
  and Bluesky's XRPC lexicons are versioned in their paths and change rarely.
"""

from __future__ import annotations

GRAPH_API_VERSION = "v23.0"
GRAPH_VERSION_SETTING = "api_version"

LINKEDIN_VERSION = "202607"
LINKEDIN_VERSION_SETTING = "linkedin_version"
