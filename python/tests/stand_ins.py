"""Stand-ins shared by the tests: a failure that looks like a lost reply, and a unary method that loses its first."""

from __future__ import annotations

from typing import Any, Callable, List

import grpc


class SimulatedLostReply(grpc.RpcError):
    """UNAVAILABLE as a client sees it when the connection drops after the daemon handled the request."""

    def code(self) -> grpc.StatusCode:
        return grpc.StatusCode.UNAVAILABLE

    def details(self) -> str:
        return "connection reset (simulated lost reply)"

    def trailing_metadata(self) -> tuple:
        return ()


class LostFirstReply:
    """Wraps a unary stub method: every request reaches the daemon, and the first reply is lost."""

    def __init__(self, method: Callable[..., Any]) -> None:
        self.method = method
        self.requests: List[Any] = []

    @property
    def calls(self) -> int:
        return len(self.requests)

    def __call__(self, request: Any, **kwargs: Any) -> Any:
        self.requests.append(request)
        response = self.method(request, **kwargs)
        if len(self.requests) == 1:
            raise SimulatedLostReply()
        return response
