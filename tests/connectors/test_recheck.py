"""Open flags' comments read again by id: Graph's ?ids= in one request, deleted ones named by its error."""

from __future__ import annotations

from typing import Any

import pytest
import responses
from responses import matchers

from connectors.facebook import FacebookConnector, FacebookSettings
from connectors.instagram import InstagramConnector, InstagramSettings
from monitor.secrets import Secret

GRAPH = "https://graph.facebook.com/v23.0/"


def facebook() -> FacebookConnector:
    settings = FacebookSettings(
        name="page", platform="facebook", page_id="1045", access_token=Secret("tok-1234", "test")
    )
    return FacebookConnector(settings)


def ids_query(ids: str, fields: str) -> Any:
    return matchers.query_param_matcher({"ids": ids, "fields": fields, "access_token": "tok-1234"})


@responses.activate
def test_hidden_visible_and_deleted_comments_are_told_apart_in_as_few_requests_as_graph_allows() -> None:
    missing = {
        "error": {
            "message": "(#803) Some of the aliases you requested do not exist: 12_3",
            "type": "OAuthException",
            "code": 803,
            "fbtrace_id": "AbCdEf",
        }
    }
    responses.get(GRAPH, json=missing, status=404, match=[ids_query("12_1,12_2,12_3", "id,is_hidden")])
    responses.get(
        GRAPH,
        json={"12_1": {"id": "12_1", "is_hidden": True}, "12_2": {"id": "12_2", "is_hidden": False}},
        match=[ids_query("12_1,12_2", "id,is_hidden")],
    )

    states = facebook().recheck(["12_1", "12_2", "12_3"])

    assert states == {"12_1": "hidden", "12_2": "visible", "12_3": "deleted"}
    assert len(responses.calls) == 2


@responses.activate
def test_instagram_reads_its_own_hidden_field() -> None:
    responses.get(GRAPH, json={"179": {"id": "179", "hidden": True}}, match=[ids_query("179", "id,hidden")])
    settings = InstagramSettings(
        name="ig", platform="instagram", ig_user_id="178", access_token=Secret("tok-1234", "test")
    )

    assert InstagramConnector(settings).recheck(["179"]) == {"179": "hidden"}


@responses.activate
def test_an_error_that_names_no_missing_comment_is_raised() -> None:
    error = {"error": {"message": "(#200) Permissions error", "type": "OAuthException", "code": 200}}
    responses.get(GRAPH, json=error, status=403)

    with pytest.raises(Exception, match="Permissions error"):
        facebook().recheck(["12_1"])


@responses.activate
def test_youtube_reads_comments_by_id_and_their_moderation_status() -> None:
    from connectors.youtube import YouTubeConnector, YouTubeSettings

    def item(comment_id: str, status: str | None) -> dict[str, Any]:
        snippet: dict[str, Any] = {
            "channelId": "UCbrightwater",
            "videoId": "dQw4w9WgXcQ",
            "textDisplay": "text",
            "textOriginal": "text",
            "authorDisplayName": "@someone",
            "publishedAt": "2026-11-19T10:00:00Z",
            "updatedAt": "2026-11-19T10:00:00Z",
        }
        if status is not None:
            snippet["moderationStatus"] = status
        return {"kind": "youtube#comment", "etag": "e", "id": comment_id, "snippet": snippet}

    body = {
        "kind": "youtube#commentListResponse",
        "etag": "x",
        "items": [item("Ugw1", None), item("Ugw2", "heldForReview"), item("Ugw3", "published")],
    }
    call = responses.get(
        "https://www.googleapis.com/youtube/v3/comments",
        json=body,
        match=[matchers.query_param_matcher({"part": "snippet", "id": "Ugw1,Ugw2,Ugw3,Ugw4", "maxResults": "50"})],
    )
    settings = YouTubeSettings(
        name="yt", platform="youtube", channel_id="UCbrightwater", access_token=Secret("ya29-token", "test")
    )

    states = YouTubeConnector(settings).recheck(["Ugw1", "Ugw2", "Ugw3", "Ugw4"])

    assert states == {"Ugw1": "visible", "Ugw2": "hidden", "Ugw3": "visible", "Ugw4": "deleted"}
    assert call.call_count == 1 and call.calls[0].request.headers["Authorization"] == "Bearer ya29-token"
