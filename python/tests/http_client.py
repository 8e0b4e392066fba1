"""A small HTTP client for the tests of the daemon's HTTP listener (stdlib only, so it tests the server, not a
client library's conveniences)."""

from __future__ import annotations

import http.client
import json
import time
from dataclasses import dataclass
from typing import Any, Dict, Iterator, Optional, Tuple
from urllib.parse import quote, urlsplit


@dataclass
class Reply:
    status: int
    headers: Dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def problem_code(self) -> Optional[str]:
        if self.headers.get("content-type", "").startswith("application/problem+json"):
            return self.json()["code"]
        return None


def key_path(namespace: str, agent: str, key: str) -> str:
    """The path of one key: every name percent-encoded as one segment (a key a/b travels as a%2Fb)."""
    return f"/v1/namespaces/{quote(namespace, safe='')}/agents/{quote(agent, safe='')}/keys/{quote(key, safe='')}"


class HTTP:
    def __init__(self, base_url: str) -> None:
        parts = urlsplit(base_url)
        self.host = parts.hostname or "127.0.0.1"
        self.port = parts.port or 80

    def connection(self, timeout: float = 30.0) -> http.client.HTTPConnection:
        return http.client.HTTPConnection(self.host, self.port, timeout=timeout)

    def request(
        self,
        method: str,
        path: str,
        body: Optional[bytes | str | Any] = None,
        headers: Optional[Dict[str, str]] = None,
        json_body: bool = True,
    ) -> Reply:
        headers = dict(headers or {})
        data: Optional[bytes] = None
        if body is not None:
            if isinstance(body, bytes):
                data = body
            elif isinstance(body, str):
                data = body.encode()
            else:
                data = json.dumps(body).encode()
            if json_body:
                headers.setdefault("content-type", "application/json")
        conn = self.connection()
        try:
            conn.request(method, path, body=data, headers=headers)
            response = conn.getresponse()
            return Reply(response.status, {k.lower(): v for k, v in response.getheaders()}, response.read())
        finally:
            conn.close()

    def get(self, path: str, **kwargs: Any) -> Reply:
        return self.request("GET", path, **kwargs)

    def wait_ready(self, timeout: float = 30.0) -> None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                if self.get("/readyz").status == 200:
                    return
            except OSError:
                pass
            if time.monotonic() > deadline:
                raise RuntimeError("the HTTP listener did not become ready")
            time.sleep(0.05)


def sse_events(
    http: HTTP, path: str, headers: Optional[Dict[str, str]] = None, timeout: float = 30.0
) -> Tuple[http.client.HTTPConnection, Iterator[Dict[str, str]]]:
    """Opens a Server-Sent Events stream; yields each event's fields (id, event, data), comments skipped."""
    conn = http.connection(timeout=timeout)
    conn.request("GET", path, headers=dict(headers or {}, accept="text/event-stream"))
    response = conn.getresponse()
    if response.status != 200:
        raise AssertionError(f"watch answered {response.status}: {response.read()!r}")

    def events() -> Iterator[Dict[str, str]]:
        fields: Dict[str, str] = {}
        while True:
            line = response.readline()
            if not line:
                return
            text = line.decode().rstrip("\n")
            if text == "":
                if "data" in fields:  # a block without data (a retry hint) dispatches no event
                    yield fields
                fields = {}
            elif text.startswith(":"):
                continue
            else:
                name, _, value = text.partition(":")
                fields[name] = value[1:] if value.startswith(" ") else value

    return conn, events()
