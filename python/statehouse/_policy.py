"""The decisions both clients make while running calls and watches: which failed call is tried again and after what
pause, and when a watch reconnects and where it resumes. The sync and the async clients only do the waiting and the
I/O (``time.sleep`` or ``asyncio.sleep``; unary calls, a session, or a stream)."""

from __future__ import annotations

import time
from typing import Any, List, Optional

import grpc

from . import _wire as wire
from . import exceptions as errors
from ._operations import READ_RETRY_DELAYS, Call, watch_request
from ._proto import statehouse_pb2 as pb
from .types import ReplayEvent

# The status codes that mean "the request may not have reached the daemon, or its reply was lost": a commit is sent
# again after them (the daemon applies it once), and a watch reconnects. A read is tried again only after
# UNAVAILABLE (the connection dropped, the store was busy): a read that timed out is not made again.
RETRYABLE_CODES = frozenset({grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED})
_READ_RETRY_CODES = frozenset({grpc.StatusCode.UNAVAILABLE.name})
_COMMIT_RETRY_CODES = frozenset(code.name for code in RETRYABLE_CODES)


class Attempts:
    """The attempts of one call: each one's timeout and wait_for_ready, and whether a failed one is made again.

    Reads (``Call.read_only``) are tried again after UNAVAILABLE, ``READ_RETRY_DELAYS`` apart. Calls that are safe to
    repeat (``Call.retry``: commits) are tried again after UNAVAILABLE or DEADLINE_EXCEEDED, 50 ms apart at first and
    twice as long each time up to 1 s, until ``commit_retry_timeout`` has passed; no attempt runs past it, and
    every attempt after the first waits for the connection to be ready. Other calls are tried once. A client runs::

        attempts = Attempts(call, timeout, commit_retry_timeout)
        while True:
            try:
                return send(call, timeout=attempts.timeout(), wait_for_ready=attempts.wait_for_ready)
            except StatehouseError as error:
                pause = attempts.pause_after(error)
                if pause is None:
                    raise
            sleep(pause)
    """

    def __init__(self, call: Call, timeout: Optional[float], commit_retry_timeout: float) -> None:
        self._call = call
        self._timeout = timeout
        self._read_delays = list(READ_RETRY_DELAYS) if call.read_only else []
        self._give_up = time.monotonic() + commit_retry_timeout if call.retry and not call.read_only else None
        self._commit_delay = 0.05
        self.wait_for_ready = False

    def timeout(self) -> Optional[float]:
        """The timeout of the next attempt (seconds; None: none)."""
        if self._give_up is None:
            return self._timeout
        remaining = self._give_up - time.monotonic()
        return remaining if self._timeout is None else min(self._timeout, max(remaining, 0.001))

    def pause_after(self, error: errors.StatehouseError) -> Optional[float]:
        """How long to wait before the next attempt after `error`; None when `error` is the call's answer."""
        if self._call.read_only:
            if error.code not in _READ_RETRY_CODES or not self._read_delays:
                return None
            return self._read_delays.pop(0)
        if self._give_up is None or error.code not in _COMMIT_RETRY_CODES:
            return None
        pause = self._commit_delay
        if time.monotonic() + pause >= self._give_up:
            return None
        self._commit_delay = min(pause * 2, 1.0)
        self.wait_for_ready = True
        return pause


class WatchState:
    """The part of a watch stream both clients share: where it resumes, the events received and not yet delivered,
    and what to do when its stream ends or fails.

    ``next_ts`` is the commit_ts of the next event to deliver; a (re)opened stream starts there, so a reconnect
    misses and repeats nothing. None until it is pinned to "after the head" (a watch of only new commits).
    """

    def __init__(
        self, namespace: str, agent_id: Optional[str], from_ts: Optional[int], reconnect_timeout: float, address: str
    ) -> None:
        self._namespace = namespace
        self._agent_id = agent_id
        self._reconnect_timeout = reconnect_timeout
        self._address = address
        first = wire.require_int("from_ts", from_ts)
        self.next_ts: Optional[int] = None if first is None else max(first, 1)
        self._call: Any = None
        self._pending: List[ReplayEvent] = []
        self._closed = False
        self._failing_since: Optional[float] = None
        self._pause = 0.05

    def _pin(self, head_commit_ts: int) -> None:
        """For a watch of only the commits after "now": pins "now" to the head, so that a reconnect cannot skip
        anything."""
        if self.next_ts is None:
            self.next_ts = head_commit_ts + 1

    def _request(self) -> pb.WatchRequest:
        return watch_request(self._namespace, self._agent_id, self.next_ts or 1)

    def _start_waiting(self) -> None:
        """Called as each wait for an event begins: reconnect pauses start short again."""
        self._failing_since = None
        self._pause = 0.05

    def _received(self, batch: pb.EventBatch) -> None:
        self._pending.extend(wire.replay_event(event, self._agent_id) for event in batch.events)
        self._failing_since = None

    def _lost(self, failure: Optional[grpc.RpcError]) -> float:
        """The stream ended (`failure` None: the daemon ended it, shutting down) or failed: returns the pause before
        reconnecting (0 when the watch was closed meanwhile), or raises the SDK error when the failure is final or
        the daemon has been unreachable for longer than the reconnect timeout."""
        self._call = None
        if self._closed:
            return 0.0
        if failure is not None and failure.code() not in RETRYABLE_CODES and not wire.is_slow_watcher(failure):
            raise wire.rpc_error(failure, address=self._address) from None
        self._failing_since = self._failing_since or time.monotonic()
        if failure is not None and time.monotonic() - self._failing_since > self._reconnect_timeout:
            raise wire.rpc_error(failure, address=self._address) from None
        pause = self._pause
        self._pause = min(pause * 2, 1.0)
        return pause

    def _deliver(self) -> ReplayEvent:
        event = self._pending.pop(0)
        self.next_ts = event.commit_ts + 1
        return event

    def _stop(self) -> None:
        self._closed = True
        if self._call is not None:
            self._call.cancel()
            self._call = None
