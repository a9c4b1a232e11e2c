"""Slack and Microsoft Teams incoming webhooks: the same items as the email, as a compact message.

The webhook URL is a secret (it is the credential), so it never appears in
errors; the recipient recorded in the log is the webhook's configured name.
"""

from __future__ import annotations

from typing import Any

import requests

from monitor.errors import NotifyError
from monitor.notify.channels import Outgoing
from monitor.notify.content import Message
from monitor.notify.present import Item
from monitor.notify.settings import WebhookSettings
from monitor.secrets import redact

MAX_ITEMS = 20
TIMEOUT = 20.0


class WebhookChannel:
    name: str = "webhook"

    def __init__(self, settings: WebhookSettings, session: requests.Session | None = None) -> None:
        self.settings = settings
        self.recipients = (settings.name,)
        self.session = session or requests.Session()

    def payload(self, message: Message) -> dict[str, Any]:
        raise NotImplementedError

    def deliver(self, outgoing: Outgoing, recipient: str) -> None:
        where = f"{self.name} webhook {self.settings.name!r}"
        try:
            response = self.session.post(
                self.settings.url.reveal(), json=self.payload(outgoing.message), timeout=TIMEOUT
            )
        except requests.Timeout:
            raise NotifyError(f"{where}: timed out", permanent=False) from None
        except requests.RequestException as exc:
            raise NotifyError(f"{where}: could not connect ({type(exc).__name__})", permanent=False) from None
        if response.status_code >= 300:
            detail = redact(" ".join(response.text.split()))[:100]
            transient = response.status_code == 429 or response.status_code >= 500
            raise NotifyError(f"{where}: HTTP {response.status_code} {detail}".rstrip(), permanent=not transient)


class SlackChannel(WebhookChannel):
    name = "slack"

    def payload(self, message: Message) -> dict[str, Any]:
        lines = [f"*{slack_escape(message.subject)}*"]
        lines += [_slack_item(item) for item in _items(message)[:MAX_ITEMS]]
        lines += _more(message)
        return {"text": slack_escape(message.subject), "blocks": [_section(line) for line in lines]}


class TeamsChannel(WebhookChannel):
    name = "teams"

    def payload(self, message: Message) -> dict[str, Any]:
        body: list[dict[str, Any]] = [
            {"type": "TextBlock", "text": message.subject, "weight": "Bolder", "wrap": True},
        ]
        body += [_teams_item(item) for item in _items(message)[:MAX_ITEMS]]
        body += [{"type": "TextBlock", "text": line, "wrap": True, "isSubtle": True} for line in _more(message)]
        card = {
            "$schema": "http://adaptivecards.io/schemas/adaptive-card.json",
            "type": "AdaptiveCard",
            "version": "1.4",
            "body": body,
        }
        return {
            "type": "message",
            "attachments": [{"contentType": "application/vnd.microsoft.card.adaptive", "content": card}],
        }


def slack_escape(text: str) -> str:
    """Slack's mrkdwn treats &, < and > as control characters; everything else stays as written."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _items(message: Message) -> list[Item]:
    items = [item for section in message.sections for group in section.groups for item in group.items]
    return items + list(message.reminders)


def _more(message: Message) -> list[str]:
    total = sum(section.count for section in message.sections) + len(message.reminders)
    shown = min(len(_items(message)), MAX_ITEMS)
    return [f"{total - shown} more in the email digest."] if total > shown else []


def _excerpt(item: Item) -> str:
    return " ".join("".join(segment.text for segment in item.excerpt).split())


def _slack_item(item: Item) -> str:
    head = f"*{item.severity.upper()}* {slack_escape(item.what)} · {slack_escape(item.author)} on {item.platform}"
    link = f" <{item.link}|Open the comment>" if item.link else ""
    return f"{head}, {slack_escape(item.when)}\n> {slack_escape(_excerpt(item))}\n{link.strip()}"


def _section(text: str) -> dict[str, Any]:
    return {"type": "section", "text": {"type": "mrkdwn", "text": text[:3000]}}


def _teams_item(item: Item) -> dict[str, Any]:
    runs: list[dict[str, Any]] = [
        {"type": "TextRun", "text": f"{item.severity.upper()} ", "weight": "Bolder"},
        {"type": "TextRun", "text": f"{item.what} · {item.author} on {item.platform}, {item.when}\n"},
        {"type": "TextRun", "text": _excerpt(item), "italic": True},
    ]
    if item.link:
        action = {"type": "Action.OpenUrl", "url": item.link}
        runs.append({"type": "TextRun", "text": "\nOpen the comment", "selectAction": action})
    return {"type": "RichTextBlock", "inlines": runs, "separator": True}
