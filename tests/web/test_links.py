"""Signed links: each grants one flag to one recipient until it expires, and any change to it is refused."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from monitor.web.links import LinkRefusedError, LinkSigner

NOW = datetime(2026, 11, 20, 9, 0, tzinfo=UTC)
KEY = "a-key-of-at-least-thirty-two-characters!"
GM = "gm@brightwater.example"


def signer(key: str = KEY, recipients: tuple[str, ...] = (GM,)) -> LinkSigner:
    return LinkSigner(key, recipients, timedelta(days=14))


def refusal(token: str, at: datetime = NOW, by: LinkSigner | None = None) -> str:
    with pytest.raises(LinkRefusedError) as caught:
        (by or signer()).verify(token, at)
    return caught.value.kind


def test_a_link_grants_its_flag_to_its_recipient_until_it_expires() -> None:
    token = signer().flag_token(42, GM, NOW)

    grant = signer().verify(token, NOW + timedelta(days=13, hours=23))

    assert (grant.flag_id, grant.recipient) == (42, GM)
    assert grant.expires == NOW + timedelta(days=14)
    assert GM not in token  # the address is not readable from the link


def test_an_expired_link_is_refused_saying_when_it_expired() -> None:
    token = signer().flag_token(42, GM, NOW)

    with pytest.raises(LinkRefusedError) as caught:
        signer().verify(token, NOW + timedelta(days=14))

    assert caught.value.kind == "expired"
    assert "expired on 04 Dec 2026" in str(caught.value)


def test_a_link_altered_to_another_flag_or_a_later_expiry_is_refused() -> None:
    version, _scope, tag, expiry, signature = signer().flag_token(42, GM, NOW).split(".")

    assert refusal(".".join([version, "43", tag, expiry, signature])) == "forged"
    assert refusal(".".join([version, "42", tag, str(int(expiry) + 86400), signature])) == "forged"
    assert refusal(".".join([version, "inbox", tag, expiry, signature])) == "forged"


def test_a_link_signed_with_another_key_or_made_up_is_refused() -> None:
    other = signer(key="another-key-of-at-least-thirty-two-chars").flag_token(42, GM, NOW)

    assert refusal(other) == "forged"
    assert refusal("v1.42.abc.9999999999.not-a-signature") == "forged"
    assert refusal("hello") == "malformed"
    assert refusal("") == "malformed"


def test_a_recipient_taken_off_the_list_loses_their_links() -> None:
    token = signer(recipients=(GM, "old@brightwater.example")).flag_token(42, "old@brightwater.example", NOW)

    assert refusal(token, by=signer(recipients=(GM,))) == "recipient"


def test_links_are_made_only_for_recipients_and_differ_per_recipient() -> None:
    both = signer(recipients=(GM, "deputy@brightwater.example"))

    assert both.flag_token(1, GM, NOW) != both.flag_token(1, "deputy@brightwater.example", NOW)
    with pytest.raises(ValueError, match="recipients"):
        both.flag_token(1, "stranger@example.org", NOW)
