"""A scripted stand-in for Graph's `$batch` endpoint, for unit tests of the runner and the
gateway that need exact control of each item's answer (the emulator covers real behaviour)."""

from __future__ import annotations

import json
import random
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from shared.graph import GraphConfig, StaticToken

BASE_URL = "https://graph.test/v1.0"

ItemAnswer = tuple[int, dict[str, str], Any]  # status, headers, body
ItemHandler = Callable[[dict[str, Any]], ItemAnswer]


@dataclass
class ScriptedGraph:
    """Answers every batch item with `handler(item)`, in shuffled order like Graph."""

    handler: ItemHandler
    batches: list[list[dict[str, Any]]] = field(default_factory=list)
    outer: list[httpx.Response | Exception] = field(default_factory=list)
    rng: random.Random = field(default_factory=lambda: random.Random(7))

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.url.path == "/v1.0/$batch", request.url
        assert request.headers["authorization"] == "Bearer test-token"
        items = json.loads(request.content)["requests"]
        self.batches.append(items)
        if self.outer:
            scripted = self.outer.pop(0)
            if isinstance(scripted, Exception):
                raise scripted
            return scripted
        answers = []
        for item in items:
            status, headers, body = self.handler(item)
            answer: dict[str, Any] = {"id": item["id"], "status": status, "headers": headers}
            if body is not None:
                answer["body"] = body
            answers.append(answer)
        self.rng.shuffle(answers)
        return httpx.Response(200, json={"responses": answers})

    @property
    def items(self) -> list[dict[str, Any]]:
        return [item for batch in self.batches for item in batch]

    def client(self) -> httpx.AsyncClient:
        return httpx.AsyncClient(transport=httpx.MockTransport(self))


def config(**overrides: Any) -> GraphConfig:
    settings: dict[str, Any] = {
        "base_url": BASE_URL,
        "credential": StaticToken("test-token"),
        "write_budget": 10_000,
        "write_window_seconds": 10.0,
    }
    return GraphConfig(**(settings | overrides))


def error(code: str, message: str) -> dict[str, Any]:
    return {"error": {"code": code, "message": message}}
