"""The transport: one token for many requests, fetched off the event loop for sync
credentials, and Graph's answers as data rather than exceptions."""

from __future__ import annotations

import threading
import time

import httpx
from azure.core.credentials import AccessToken

from shared.graph.transport import Transport
from tests.graph.fakes import config


class CountingCredential:
    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[str] = set()

    def get_token(self, *scopes: str, **kwargs) -> AccessToken:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        return AccessToken("test-token", int(time.time()) + 3600)


async def test_one_token_serves_many_requests_and_is_fetched_off_the_event_loop():
    credential = CountingCredential()
    http = httpx.AsyncClient(transport=httpx.MockTransport(lambda r: httpx.Response(204)))
    transport = Transport(config(credential=credential), http=http)

    for _ in range(5):
        await transport.request("GET", "/groups/g")

    assert credential.calls == 1
    assert threading.main_thread().name not in credential.threads
    await transport.aclose()


async def test_an_error_answer_comes_back_as_status_headers_and_body():
    def refuse(request: httpx.Request) -> httpx.Response:
        body = {"error": {"code": "Request_ResourceNotFound", "message": "gone"}}
        return httpx.Response(404, json=body, headers={"Request-Id": "r1"})

    transport = Transport(config(), http=httpx.AsyncClient(transport=httpx.MockTransport(refuse)))

    answer = await transport.request("GET", "/groups/g")

    assert answer.status == 404
    assert answer.headers["request-id"] == "r1"
    assert answer.body["error"]["code"] == "Request_ResourceNotFound"
    await transport.aclose()
