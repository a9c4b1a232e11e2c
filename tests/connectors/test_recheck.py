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
