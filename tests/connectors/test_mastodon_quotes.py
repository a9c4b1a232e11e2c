"""Mastodon: quote posts (4.5), edits, and the post a nested reply belongs under.

Shapes follow docs.joinmastodon.org: the Notification entity (``type`` ``mention``,
``quote``, ``update``; ``status``), the Status entity (``in_reply_to_id``,
``in_reply_to_account_id``, ``edited_at``, ``quote`` as a Quote entity with ``state`` and
``quoted_status``, HTML ``content`` whose ``<p class="quote-inline">RE: …</p>`` is the
fallback for clients without quotes, per "Implementing quote posts"), and
``GET /api/v1/statuses/:id/context`` (``ancestors``, ``descendants``).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import responses

from connectors.mastodon import MastodonConnector, MastodonSettings
from monitor.secrets import Secret

INSTANCE = "https://social.example.org"
OWNER = "109000000000000001"
OUR_POST = "113400000000000100"
NOW = datetime(2026, 11, 20, 12, 0, tzinfo=UTC)


def account(account_id: str, acct: str) -> dict[str, Any]:
    return {"id": account_id, "username": acct, "acct": acct, "display_name": "", "url": f"{INSTANCE}/@{acct}"}


def status(status_id: str, content: str, **fields: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "id": status_id,
        "created_at": "2026-11-20T11:30:00.000Z",
        "in_reply_to_id": None,
        "in_reply_to_account_id": None,
        "sensitive": False,
        "spoiler_text": "",
        "visibility": "public",
        "uri": f"{INSTANCE}/users/visitor/statuses/{status_id}",
        "url": f"{INSTANCE}/@visitor/{status_id}",
        "content": content,
        "account": account("109000000000000777", "visitor"),
        "edited_at": None,
        "quote": None,
    }
    body.update(fields)
    return body


def notification(notification_id: str, kind: str, of: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": notification_id,
        "type": kind,
        "group_key": f"ungrouped-{notification_id}",
        "created_at": of["created_at"],
        "account": of["account"],
        "status": of,
    }


def connector() -> MastodonConnector:
    settings = MastodonSettings(
        name="brightwater-mastodon",
        platform="mastodon",
        base_url=INSTANCE,
        access_token=Secret("mastodon-token-value", "t"),
        account_id=OWNER,
    )
    made = MastodonConnector(settings, now=lambda: NOW)
    made.http.sleep = lambda seconds: None
    return made


OURS = status(OUR_POST, "<p>Open day on Saturday!</p>", account=account(OWNER, "brightwater"))
QUOTE = status(
    "113400000000000201",
    '<p class="quote-inline">RE: <a href="https://social.example.org/@brightwater/113400000000000100">'
    "social.example.org/@brightwater/113400000000000100</a></p><p>Don't bother, they never answer the phone</p>",
    quote={"state": "accepted", "quoted_status": OURS},
)
FIRST_REPLY = status(
    "113400000000000301",
    "<p>Will there be parking?</p>",
    in_reply_to_id=OUR_POST,
    in_reply_to_account_id=OWNER,
)
NESTED = status(
    "113400000000000302",
    '<p><span class="h-card"><a href="https://social.example.org/@visitor">@visitor</a></span> '
    "there never is, and the manager is a liar</p>",
    in_reply_to_id=FIRST_REPLY["id"],
    in_reply_to_account_id="109000000000000777",
)
EDITED = status(
    "113400000000000303",
    "<p>Edited: staff were rude to my mum</p>",
    in_reply_to_id=OUR_POST,
    in_reply_to_account_id=OWNER,
    edited_at="2026-11-20T11:45:00.000Z",
)


def test_quotes_nested_replies_and_edits_are_read_under_our_post() -> None:
    notifications = [
        notification("5004", "update", EDITED),
        notification("5003", "mention", NESTED),
        notification("5002", "mention", FIRST_REPLY),
        notification("5001", "quote", QUOTE),
    ]
    with responses.RequestsMock() as rsps:
        rsps.get(f"{INSTANCE}/api/v1/notifications", json=notifications)
        rsps.get(
            f"{INSTANCE}/api/v1/statuses/{NESTED['id']}/context",
            json={"ancestors": [OURS, FIRST_REPLY], "descendants": []},
        )
        batches = list(connector().fetch(None))
        context_calls = [call for call in rsps.calls if "/context" in call.request.url]

    found = {comment.external_id: comment for batch in batches for comment in batch.comments}
    quote = found[QUOTE["id"]]
    assert quote.text == "Don't bother, they never answer the phone"
    assert quote.post_id == OUR_POST and quote.parent_id is None
    nested = found[NESTED["id"]]
    assert (nested.post_id, nested.parent_id) == (OUR_POST, FIRST_REPLY["id"])
    assert nested.text == "@visitor there never is, and the manager is a liar"
    assert found[FIRST_REPLY["id"]].post_id == OUR_POST
    assert found[EDITED["id"]].edited_at == datetime(2026, 11, 20, 11, 45, tzinfo=UTC)
    assert len(context_calls) == 1  # only the reply that does not answer us directly


def test_a_nested_reply_whose_thread_cannot_be_read_keeps_its_parent_as_its_post() -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(f"{INSTANCE}/api/v1/notifications", json=[notification("5003", "mention", NESTED)])
        rsps.get(f"{INSTANCE}/api/v1/statuses/{NESTED['id']}/context", status=404, json={"error": "Record not found"})
        batches = list(connector().fetch(None))

    (comment,) = [comment for batch in batches for comment in batch.comments]
    assert comment.post_id == FIRST_REPLY["id"]
