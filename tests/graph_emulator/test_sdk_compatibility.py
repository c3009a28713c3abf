"""msgraph-sdk itself against the emulator: the URLs, headers and batch shapes it really
sends must land on the right routes and its error parser must read the error bodies."""

from __future__ import annotations

import json

import httpx
import pytest
from kiota_abstractions.authentication import (
    AccessTokenProvider,
    AllowedHostsValidator,
    BaseBearerTokenAuthenticationProvider,
)
from kiota_abstractions.base_request_configuration import RequestConfiguration
from msgraph import GraphRequestAdapter, GraphServiceClient
from msgraph.generated.models.group import Group
from msgraph.generated.models.o_data_errors.o_data_error import ODataError
from msgraph.generated.models.reference_create import ReferenceCreate
from msgraph_core import GraphClientFactory

from .helpers import GRAPH, seed_users, state_group


class StaticToken(AccessTokenProvider):
    async def get_authorization_token(self, uri, additional_authentication_context=None):
        return "static-test-token"

    def get_allowed_hosts_validator(self):
        return AllowedHostsValidator([])


@pytest.fixture
async def sdk(graph, graph_emulator):
    http = GraphClientFactory.create_with_default_middleware(client=httpx.AsyncClient())
    adapter = GraphRequestAdapter(BaseBearerTokenAuthenticationProvider(StaticToken()), client=http)
    adapter.base_url = f"{graph_emulator.url}/v1.0"
    yield GraphServiceClient(request_adapter=adapter)
    await http.aclose()


def new_group(nickname: str) -> Group:
    return Group(
        display_name=nickname,
        mail_nickname=nickname,
        mail_enabled=True,
        security_enabled=False,
        group_types=["Unified"],
    )


async def test_sdk_upsert_creates_then_updates(sdk, graph):
    config = RequestConfiguration()
    config.headers.add("Prefer", "create-if-missing")

    created = await sdk.groups_with_unique_name("sdk-key").patch(new_group("sdk1"), config)
    updated = await sdk.groups_with_unique_name("sdk-key").patch(new_group("sdk1"), config)

    assert created is not None and created.unique_name == "sdk-key"
    assert updated is None  # 204
    assert len(graph.get("/_emulator/state").json()["groups"]) == 1


async def test_sdk_reads_a_duplicate_add_as_odata_error(sdk, graph):
    [user] = seed_users(graph, 1)
    created = await sdk.groups.post(new_group("sdk2"))
    reference = ReferenceCreate(odata_id=f"{GRAPH}/directoryObjects/{user}")
    await sdk.groups.by_group_id(created.id).members.ref.post(reference)

    with pytest.raises(ODataError) as raised:
        await sdk.groups.by_group_id(created.id).members.ref.post(reference)

    assert raised.value.response_status_code == 400
    assert raised.value.error.code == "Request_BadRequest"
    assert state_group(graph, created.id)["members"] == [user]


async def test_sdk_member_page_read_as_raw_bytes(sdk, graph):
    from msgraph.generated.groups.item.members.members_request_builder import (
        MembersRequestBuilder,
    )

    users = seed_users(graph, 3)
    created = await sdk.groups.post(new_group("sdk3"))
    for user in users:
        reference = ReferenceCreate(odata_id=f"{GRAPH}/users/{user}")
        await sdk.groups.by_group_id(created.id).members.ref.post(reference)
    query = MembersRequestBuilder.MembersRequestBuilderGetQueryParameters(select=["id"], top=999)
    info = sdk.groups.by_group_id(created.id).members.to_get_request_information(
        RequestConfiguration(query_parameters=query)
    )

    raw = await sdk.request_adapter.send_primitive_async(info, "bytes", {})

    assert "%24select=id" in info.url
    assert [item["id"] for item in json.loads(raw)["value"]] == users


async def test_sdk_batch_with_snake_case_dependency(sdk, graph):
    from msgraph_core.requests.batch_request_content import BatchRequestContent
    from msgraph_core.requests.batch_request_item import BatchRequestItem

    [user] = seed_users(graph, 1)
    created = await sdk.groups.post(new_group("sdk4"))
    members = sdk.groups.by_group_id(created.id).members
    add = members.ref.to_post_request_information(
        ReferenceCreate(odata_id=f"{GRAPH}/directoryObjects/{user}")
    )
    read = members.to_get_request_information()
    first = BatchRequestItem(request_information=add)
    second = BatchRequestItem(request_information=read, depends_on=[first])
    content = BatchRequestContent({})
    content.add_request(first.id, first)
    content.add_request(second.id, second)

    response = await sdk.batch.post(content)

    statuses = response.get_response_status_codes()
    assert statuses == {first.id: 204, second.id: 200}
