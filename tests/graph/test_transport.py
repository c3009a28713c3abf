"""The transport on msgraph-sdk's request adapter: one token for many requests, fetched off the
event loop for sync credentials, sent to Graph's host only; Graph's answers as data rather than
exceptions, and no retries behind the batch runner's back."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import pytest
from azure.core.credentials import AccessToken

from shared.graph import GraphConfigError
from shared.graph.transport import Transport
from tests.graph.fakes import config, error

REPO_ROOT = Path(__file__).resolve().parents[2]


class CountingCredential:
    def __init__(self) -> None:
        self.calls = 0
        self.threads: set[str] = set()
        self.claims: list[str | None] = []

    def get_token(self, *scopes: str, claims: str | None = None, **kwargs) -> AccessToken:
        self.calls += 1
        self.threads.add(threading.current_thread().name)
        self.claims.append(claims)
        return AccessToken(f"token-{self.calls}", int(time.time()) + 3600)


class Recorder:
    """Answers with the scripted responses in turn (the last one from then on) and keeps every
    request it was sent."""

    def __init__(self, *responses: httpx.Response) -> None:
        self.responses = list(responses)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.responses.pop(0) if len(self.responses) > 1 else self.responses[0]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


async def test_one_token_serves_many_requests_and_is_fetched_off_the_event_loop():
    credential = CountingCredential()
    graph = Recorder(httpx.Response(204))
    transport = Transport(config(credential=credential), http=graph.client())

    for _ in range(5):
        await transport.request("GET", "/groups/g")

    assert credential.calls == 1
    assert threading.main_thread().name not in credential.threads
    assert {r.headers["authorization"] for r in graph.requests} == {"Bearer token-1"}
    await transport.aclose()


async def test_an_error_answer_comes_back_as_status_headers_and_body():
    body = {"error": {"code": "Request_ResourceNotFound", "message": "gone"}}
    graph = Recorder(httpx.Response(404, json=body, headers={"Request-Id": "r1"}))
    transport = Transport(config(), http=graph.client())

    answer = await transport.request("GET", "/groups/g")

    assert answer.status == 404
    assert answer.headers["request-id"] == "r1"
    assert answer.body["error"]["code"] == "Request_ResourceNotFound"
    await transport.aclose()


async def test_a_throttled_batch_is_returned_once_for_the_runner_to_retry():
    throttled = httpx.Response(
        429, json=error("TooManyRequests", "slow down"), headers={"Retry-After": "1"}
    )
    graph = Recorder(throttled, httpx.Response(200, json={"responses": []}))
    transport = Transport(config(), http=graph.client())

    answer = await transport.request("POST", "/$batch", json_body={"requests": []})

    assert (answer.status, answer.headers["retry-after"]) == (429, "1")
    assert len(graph.requests) == 1
    await transport.aclose()


async def test_requests_carry_graphs_middleware_headers_and_the_json_body():
    graph = Recorder(httpx.Response(200, json={"responses": []}))
    transport = Transport(config(), http=graph.client())

    await transport.request("POST", "/$batch", json_body={"requests": []}, headers={"Prefer": "x"})

    sent = graph.requests[0]
    assert str(sent.url) == "https://graph.test/v1.0/$batch"
    assert "kiota-python/" in sent.headers["user-agent"]
    assert sent.headers["content-type"] == "application/json" and sent.headers["prefer"] == "x"
    assert sent.content == b'{"requests":[]}'
    await transport.aclose()


async def test_the_token_is_never_sent_to_another_host():
    graph = Recorder(httpx.Response(200, json={}))
    transport = Transport(config(), http=graph.client())

    await transport.request("GET", "https://elsewhere.example/v1.0/groups?$skiptoken=x")
    await transport.request("GET", "https://graph.test/v1.0/groups?$skiptoken=x")

    assert [r.headers.get("authorization") for r in graph.requests] == [None, "Bearer test-token"]
    await transport.aclose()


async def test_a_claims_challenge_fetches_a_new_token_and_sends_again():
    claims = base64.b64encode(b'{"access_token":{"nbf":{"essential":true}}}').decode()
    challenge = httpx.Response(
        401,
        json=error("InvalidAuthenticationToken", "revoked"),
        headers={
            "WWW-Authenticate": f'Bearer realm="", error="insufficient_claims", claims="{claims}"'
        },
    )
    graph = Recorder(challenge, httpx.Response(200, json={"id": "g"}))
    credential = CountingCredential()
    transport = Transport(config(credential=credential), http=graph.client())

    answer = await transport.request("GET", "/groups/g")

    assert answer.status == 200
    assert [r.headers["authorization"] for r in graph.requests] == [
        "Bearer token-1",
        "Bearer token-2",
    ]
    assert credential.claims[0] is None and "essential" in credential.claims[1]
    await transport.aclose()


async def test_plain_http_is_refused_unless_graph_is_a_local_emulator():
    with pytest.raises(GraphConfigError, match="https"):
        Transport(config(base_url="http://graph.test/v1.0"))

    local = Transport(config(base_url="http://127.0.0.1:8080/v1.0"))

    assert local.absolute("/groups") == "http://127.0.0.1:8080/v1.0/groups"
    await local.aclose()


def test_importing_the_gateway_loads_none_of_the_sdk():
    probe = (
        "import sys, shared.graph; "
        "print(sorted(m for m in sys.modules "
        "if m.startswith(('msgraph', 'kiota', 'opentelemetry', 'azure.identity'))))"
    )

    loaded = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=True, cwd=REPO_ROOT
    ).stdout

    assert loaded.strip() == "[]"
