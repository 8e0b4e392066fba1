"""Access control against a real daemon started with ``--auth required``: a catalogue of refusals over gRPC and HTTP
(UNAUTHENTICATED / 401, PERMISSION_DENIED / 403), each checked to have changed nothing (every namespace's head, the
seeded values, the tokens and snapshots), beside the allowed counterparts that keep the catalogue from passing
vacuously; the audit trail (``statehouse.principal``, token commits in ``_statehouse``); revocation ending open
watches; the SDK's token argument and token calls; certificate principals over mutual TLS; MCP; and secrets that
must never reach the data directory or the log.

Quotas are in test_quotas.py; plain TLS refusals (plaintext client, wrong CA, expired or missing client
certificate) in test_tls.py.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
import os
import re
import shutil
import ssl
import stat
import subprocess
import time
import uuid
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from typing import Any, Callable, Dict, Iterator, List, Optional, Tuple

import grpc
import pytest

from daemon import Daemon, backend, free_port, statehoused_binary
from http_client import HTTP, Reply, key_path, sse_events
from statehouse import (
    TLS,
    AccessGrant,
    AsyncStatehouse,
    InvalidArgumentError,
    PermissionDeniedError,
    Put,
    Statehouse,
    UnauthenticatedError,
)
from statehouse._operations import new_transaction_id
from statehouse._proto import statehouse_pb2 as pb
from statehouse._proto import statehouse_pb2_grpc

# The namespaces the module's daemon holds a key a/k in; "no-such-ns" never gets a commit.
SEEDED = ["prod", "prod-1", "prod-2", "alpha", "beta", "secret-ns"]
SYSTEM = "_statehouse"
PRINCIPAL_TAG = "statehouse.principal"

# The module's tokens by label (the admin token is the bootstrap one the daemon wrote).
GRANTS: Dict[str, List[str]] = {
    "prod_read": ["prod:read"],
    "prod_write": ["prod:write"],
    "prod_write_2": ["prod:write"],
    "prod_star_write": ["prod-*:write"],
    "prod_star_admin": ["prod-*:admin"],
    "alpha_write": ["alpha:write"],
    "star_read": ["*:read"],
    "star_write": ["*:write"],
    "revoked": ["*:admin"],  # revoked at once: even an admin token then authenticates nothing
    "expired": ["*:admin"],  # expires 2 s after it is made
}


def statehousectl() -> str:
    return str(statehoused_binary().with_name("statehousectl"))


def bearer(token: str) -> List[Tuple[str, str]]:
    return [("authorization", f"Bearer {token}")]


def token_id(token: str) -> str:
    return token.split(".", 1)[0]


def put(agent: str = "a", key: str = "k", value: bytes = b'"changed"') -> pb.Operation:
    return pb.Operation(agent_id=agent, key=key, kind=pb.OPERATION_KIND_PUT, value=value)


@dataclass
class World:
    """The module's daemon, its tokens (whole, by label; "admin" included) and ways to reach it."""

    daemon: Daemon
    tokens: Dict[str, str]
    stub: statehouse_pb2_grpc.StatehouseServiceStub
    http: HTTP
    admin: Statehouse
    channel: Any = None
    scratch: Path = field(default_factory=Path)

    def id(self, label: str) -> str:
        return token_id(self.tokens[label])

    def fingerprint(self) -> Any:
        """What a refused request must not change: every namespace's head (the system namespace's included), the
        seeded values, the tokens (revocations included) and the snapshots of prod."""
        heads = {head.namespace: (head.commit_ts, head.hash) for head in self.admin.list_namespaces()}
        values = {}
        for namespace in SEEDED:
            state = self.admin.get_state("a", "k", namespace=namespace)
            values[namespace] = (state.version, state.value)
        tokens = sorted((token.id, token.revoked_at) for token in self.admin.list_tokens(include_revoked=True))
        snapshots = [(s.name, s.commit_ts) for s in self.admin.list_snapshots(namespace="prod")]
        return heads, values, tokens, snapshots


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[World]:
    root = tmp_path_factory.mktemp("auth")
    daemon = Daemon(root / "data", ["--auth", "required", "--durability", "relaxed"]).start()
    admin_token = (daemon.data_dir / "admin.token").read_text().strip()
    channel = grpc.insecure_channel(daemon.url)
    admin = Statehouse(url=daemon.url, token=admin_token)
    try:
        for namespace in SEEDED:
            admin.apply([Put("a", "k", f"seed of {namespace}")], namespace=namespace)
        admin.create_snapshot("snap", "a", namespace="prod")
        tokens = {"admin": admin_token}
        for label, grants in GRANTS.items():
            if label != "expired":
                _, tokens[label] = admin.create_token(label, grants)
        admin.revoke_token(token_id(tokens["revoked"]))
        # A token that expires 2 s after it is made: it works until then (checked only while that is certain),
        # then authenticates nothing. The poll is bounded; what is asserted is the behaviour, not the clock.
        made = time.monotonic()
        _, tokens["expired"] = admin.create_token("expired", GRANTS["expired"], expires_at=timedelta(seconds=2))
        with Statehouse(url=daemon.url, token=tokens["expired"]) as late:
            try:
                assert late.whoami().principal_id == token_id(tokens["expired"])
            except UnauthenticatedError:
                assert time.monotonic() - made >= 2, "a token was refused before its expiry"
            for _ in range(100):
                try:
                    late.whoami()
                except UnauthenticatedError as refused:
                    assert "expired" in str(refused)
                    break
                time.sleep(0.1)
            else:
                pytest.fail("a token that expires in 2 s still authenticated 10 s later")
        http = HTTP(daemon.http_url)
        http.wait_ready()
        scratch = root / "scratch"
        scratch.mkdir()
        yield World(
            daemon,
            tokens,
            statehouse_pb2_grpc.StatehouseServiceStub(channel),
            http,
            admin,
            channel,
            scratch,
        )
    finally:
        admin.close()
        channel.close()
        daemon.stop()


# ---- the catalogue ---------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class GrpcCall:
    method: str
    request: Callable[[World], Any]
    client_stream: bool = False  # ImportLog takes a stream of requests


@dataclass(frozen=True)
class HttpCall:
    method: str
    path: str
    body: Any = None


@dataclass(frozen=True)
class Refusal:
    """A request made with a credential, and the refusal it must get. ``says`` are substrings of its message."""

    credential: Callable[[World], Optional[str]]  # the authorization header's value, None for none
    call: Any  # GrpcCall or HttpCall
    code: str  # "unauthenticated", "permission_denied" or "invalid_argument"
    says: Callable[[World], Tuple[str, ...]] = lambda world: ()


def as_bearer(label: str) -> Callable[[World], str]:
    return lambda world: f"Bearer {world.tokens[label]}"


# Credentials the daemon takes for no one.
BAD_CREDENTIALS: Dict[str, Callable[[World], Optional[str]]] = {
    "no-token": lambda world: None,
    "bearer-without-token": lambda world: "Bearer",
    "malformed-token": lambda world: "Bearer not-a-token",
    "malformed-id": lambda world: "Bearer tok_NOTHEX." + "A" * 43,
    "unknown-id": lambda world: "Bearer tok_0123456789abcdef." + "A" * 43,
    "admin-id-wrong-secret": lambda world: f"Bearer {world.id('admin')}.{'B' * 43}",
    "admin-token-basic-scheme": lambda world: f"Basic {world.tokens['admin']}",
    "admin-token-basic-encoded": lambda world: (
        "Basic " + base64.b64encode(world.tokens["admin"].replace(".", ":", 1).encode()).decode()
    ),
    "expired-token": as_bearer("expired"),
    "revoked-token": as_bearer("revoked"),
}

UNAUTHENTICATED_CALLS = {
    "grpc-GetState": GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace="prod", agent_id="a", key="k")),
    "grpc-Apply": GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="prod", operations=[put()])),
    "http-GET-key": HttpCall("GET", key_path("prod", "a", "k")),
    "http-PUT-key": HttpCall("PUT", key_path("prod", "a", "k"), b'"changed"'),
}

REFUSALS: Dict[str, Refusal] = {
    f"{credential}/{call}": Refusal(BAD_CREDENTIALS[credential], UNAUTHENTICATED_CALLS[call], "unauthenticated")
    for credential in BAD_CREDENTIALS
    for call in UNAUTHENTICATED_CALLS
}


def denied(label: str, role: str, namespace: str) -> Callable[[World], Tuple[str, ...]]:
    """The documented message: it names the token, the role it lacks and the namespace."""
    return lambda world: (f"token {world.id(label)}", f"no {role} grant on namespace '{namespace}'")


def refuse(label: str, call: Any, says: Callable[[World], Tuple[str, ...]] = lambda world: ()) -> Refusal:
    return Refusal(as_bearer(label), call, "permission_denied", says)


def grant(pattern: str, role: str) -> pb.AccessGrant:
    return pb.AccessGrant(namespace_pattern=pattern, role=role)


def event_draft() -> pb.AgentEventDraft:
    return pb.AgentEventDraft(agent_id="a", type="note", content=b"1")


FORGED = pb.Metadata(tags={PRINCIPAL_TAG: "tok_0123456789abcdef"})
SYSTEM_SAYS: Callable[[World], Tuple[str, ...]] = lambda world: (f"namespace '{SYSTEM}'",)  # noqa: E731

REFUSALS.update(
    {
        # A read token writing, every kind of change.
        "read-token/grpc-Apply": refuse(
            "prod_read",
            GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="prod", operations=[put()])),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-Commit-begun-by-client": refuse(
            "prod_read",
            GrpcCall(
                "Commit",
                lambda w: pb.CommitRequest(
                    txn_id=new_transaction_id(), begun_by_client=True, namespace="prod", operations=[put()]
                ),
            ),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-BeginTransaction": refuse(
            "prod_read",
            GrpcCall("BeginTransaction", lambda w: pb.BeginTransactionRequest(namespace="prod")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-CreateSnapshot": refuse(
            "prod_read",
            GrpcCall("CreateSnapshot", lambda w: pb.CreateSnapshotRequest(namespace="prod", name="no", agent_id="a")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-DeleteSnapshot": refuse(
            "prod_read",
            GrpcCall("DeleteSnapshot", lambda w: pb.DeleteSnapshotRequest(namespace="prod", name="snap")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-RestoreSnapshot": refuse(
            "prod_read",
            GrpcCall("RestoreSnapshot", lambda w: pb.RestoreSnapshotRequest(namespace="prod", name="snap", force=True)),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-RecordEvents": refuse(
            "prod_read",
            GrpcCall("RecordEvents", lambda w: pb.RecordEventsRequest(namespace="prod", events=[event_draft()])),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-UpdateAgent": refuse(
            "prod_read",
            GrpcCall("UpdateAgent", lambda w: pb.UpdateAgentRequest(namespace="prod", agent_id="a", status="paused")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-DeleteAgent": refuse(
            "prod_read",
            GrpcCall("DeleteAgent", lambda w: pb.DeleteAgentRequest(namespace="prod", agent_id="a")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-StartSession": refuse(
            "prod_read",
            GrpcCall("StartSession", lambda w: pb.StartSessionRequest(namespace="prod", agent_id="a")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-CreateTask": refuse(
            "prod_read",
            GrpcCall("CreateTask", lambda w: pb.CreateTaskRequest(namespace="prod", title="t")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-Fork-within-prod": refuse(
            "prod_read",
            GrpcCall("Fork", lambda w: pb.ForkRequest(namespace="prod", agent_id="a", target_agent_id="copy")),
            denied("prod_read", "write", "prod"),
        ),
        "read-token/grpc-read-system-namespace": refuse(
            "prod_read",
            GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace=SYSTEM, agent_id="@tokens", key=w.id("admin"))),
            denied("prod_read", "read", SYSTEM),
        ),
        # A token of namespace A on namespace B; the fork's target namespace needs write.
        "alpha-token/grpc-GetState-beta": refuse(
            "alpha_write",
            GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace="beta", agent_id="a", key="k")),
            denied("alpha_write", "read", "beta"),
        ),
        "alpha-token/grpc-Apply-beta": refuse(
            "alpha_write",
            GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="beta", operations=[put()])),
            denied("alpha_write", "write", "beta"),
        ),
        "alpha-token/grpc-Fork-alpha-into-beta": refuse(
            "alpha_write",
            GrpcCall(
                "Fork",
                lambda w: pb.ForkRequest(namespace="alpha", agent_id="a", target_namespace="beta", target_agent_id="c"),
            ),
            denied("alpha_write", "write", "beta"),
        ),
        "alpha-token/grpc-Watch-beta": refuse(
            "alpha_write",
            GrpcCall("Watch", lambda w: pb.WatchRequest(namespace="beta", from_commit_ts=1)),
            denied("alpha_write", "read", "beta"),
        ),
        "alpha-token/grpc-Replay-beta": refuse(
            "alpha_write",
            GrpcCall("Replay", lambda w: pb.ReplayRequest(filter=pb.LogFilter(namespace="beta"))),
            denied("alpha_write", "read", "beta"),
        ),
        # Pattern edges: an exact namespace is not a prefix, and prod-* does not match prod.
        "prod-token/grpc-Apply-prod-2": refuse(
            "prod_write",
            GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="prod-2", operations=[put()])),
            denied("prod_write", "write", "prod-2"),
        ),
        "prod-star-token/grpc-Apply-prod": refuse(
            "prod_star_write",
            GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="prod", operations=[put()])),
            denied("prod_star_write", "write", "prod"),
        ),
        "prod-star-token/grpc-GetState-prod": refuse(
            "prod_star_write",
            GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace="prod", agent_id="a", key="k")),
            denied("prod_star_write", "read", "prod"),
        ),
        # A write token on what needs admin.
        "write-token/grpc-CreateToken": refuse(
            "star_write",
            GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="x", grants=[grant("prod", "read")])),
            lambda world: (f"token {world.id('star_write')}", "no admin grant"),
        ),
        "write-token/grpc-ListTokens": refuse(
            "star_write",
            GrpcCall("ListTokens", lambda w: pb.ListTokensRequest(include_revoked=True)),
            lambda world: (f"token {world.id('star_write')}", "no admin grant"),
        ),
        "write-token/grpc-RevokeToken": refuse(
            "star_write",
            GrpcCall("RevokeToken", lambda w: pb.RevokeTokenRequest(id=w.id("prod_read"))),
            lambda world: (f"token {world.id('star_write')}",),
        ),
        "write-token/grpc-SetRetention": refuse(
            "star_write",
            GrpcCall("SetRetention", lambda w: pb.SetRetentionRequest(namespace="prod", keep_versions=1)),
            denied("star_write", "admin", "prod"),
        ),
        "write-token/grpc-Compact": refuse(
            "star_write",
            GrpcCall("Compact", lambda w: pb.CompactRequest(namespace="prod")),
            denied("star_write", "admin", "prod"),
        ),
        "write-token/grpc-ImportLog": refuse(
            "star_write",
            GrpcCall("ImportLog", lambda w: pb.ImportLogRequest(namespace="prod-import", source_namespace="x"), True),
            denied("star_write", "admin", "prod-import"),
        ),
        "write-token/grpc-Backup": refuse(
            "star_write",
            GrpcCall("Backup", lambda w: pb.BackupRequest(destination=str(w.scratch / "backup-by-writer"))),
            lambda world: (f"token {world.id('star_write')}", "no admin grant"),
        ),
        # A namespace admin (prod-*) outside its patterns.
        "namespace-admin/grpc-grant-star": refuse(
            "prod_star_admin",
            GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="x", grants=[grant("*", "read")])),
            lambda world: (f"token {world.id('prod_star_admin')}", "no admin grant"),
        ),
        "namespace-admin/grpc-grant-other-namespace": refuse(
            "prod_star_admin",
            GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="x", grants=[grant("other", "read")])),
            lambda world: (f"token {world.id('prod_star_admin')}", "no admin grant"),
        ),
        "namespace-admin/grpc-grant-prod-not-matched-by-prod-star": refuse(
            "prod_star_admin",
            GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="x", grants=[grant("prod", "read")])),
            lambda world: (f"token {world.id('prod_star_admin')}", "no admin grant"),
        ),
        "namespace-admin/grpc-grant-wider-prefix": refuse(
            "prod_star_admin",
            GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="x", grants=[grant("prod*", "read")])),
            lambda world: (f"token {world.id('prod_star_admin')}", "no admin grant"),
        ),
        "namespace-admin/grpc-grant-inside-and-outside": refuse(
            "prod_star_admin",
            GrpcCall(
                "CreateToken",
                lambda w: pb.CreateTokenRequest(name="x", grants=[grant("prod-1", "read"), grant("alpha", "read")]),
            ),
            lambda world: (f"token {world.id('prod_star_admin')}", "no admin grant"),
        ),
        "namespace-admin/grpc-revoke-token-outside": refuse(
            "prod_star_admin",
            GrpcCall("RevokeToken", lambda w: pb.RevokeTokenRequest(id=w.id("alpha_write"))),
            lambda world: (f"token {world.id('prod_star_admin')}",),
        ),
        "namespace-admin/grpc-SetRetention-outside": refuse(
            "prod_star_admin",
            GrpcCall("SetRetention", lambda w: pb.SetRetentionRequest(namespace="alpha", keep_versions=1)),
            denied("prod_star_admin", "admin", "alpha"),
        ),
        "namespace-admin/grpc-Backup-needs-star-admin": refuse(
            "prod_star_admin",
            GrpcCall("Backup", lambda w: pb.BackupRequest(destination=str(w.scratch / "backup-by-ns-admin"))),
            lambda world: (f"token {world.id('prod_star_admin')}", "no admin grant"),
        ),
        # Nobody writes the system namespace, not even *:admin.
        "star-admin/grpc-Apply-system": refuse(
            "admin",
            GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace=SYSTEM, operations=[put("@tokens", w.id("admin"))])),
            SYSTEM_SAYS,
        ),
        "star-admin/grpc-Commit-begun-by-client-system": refuse(
            "admin",
            GrpcCall(
                "Commit",
                lambda w: pb.CommitRequest(
                    txn_id=new_transaction_id(), begun_by_client=True, namespace=SYSTEM, operations=[put("@audit", "x")]
                ),
            ),
            SYSTEM_SAYS,
        ),
        "star-admin/grpc-BeginTransaction-system": refuse(
            "admin", GrpcCall("BeginTransaction", lambda w: pb.BeginTransactionRequest(namespace=SYSTEM)), SYSTEM_SAYS
        ),
        "star-admin/grpc-UpdateAgent-system": refuse(
            "admin",
            GrpcCall("UpdateAgent", lambda w: pb.UpdateAgentRequest(namespace=SYSTEM, agent_id="@tokens", status="x")),
            SYSTEM_SAYS,
        ),
        "star-admin/grpc-DeleteAgent-system": refuse(
            "admin",
            GrpcCall("DeleteAgent", lambda w: pb.DeleteAgentRequest(namespace=SYSTEM, agent_id="@tokens")),
            SYSTEM_SAYS,
        ),
        "star-admin/grpc-Fork-into-system": refuse(
            "admin",
            GrpcCall(
                "Fork",
                lambda w: pb.ForkRequest(namespace="prod", agent_id="a", target_namespace=SYSTEM, target_agent_id="b"),
            ),
            SYSTEM_SAYS,
        ),
        "star-admin/grpc-SetRetention-system": refuse(
            "admin",
            GrpcCall("SetRetention", lambda w: pb.SetRetentionRequest(namespace=SYSTEM, keep_versions=1)),
            SYSTEM_SAYS,
        ),
        "star-admin/grpc-ImportLog-system": refuse(
            "admin",
            GrpcCall("ImportLog", lambda w: pb.ImportLogRequest(namespace=SYSTEM, source_namespace="x"), True),
            SYSTEM_SAYS,
        ),
        "star-write/grpc-RecordEvents-system": refuse(
            "star_write",
            GrpcCall("RecordEvents", lambda w: pb.RecordEventsRequest(namespace=SYSTEM, events=[event_draft()])),
            SYSTEM_SAYS,
        ),
        # A client may not claim a principal: the daemon sets the tag.
        "client-sets-principal/grpc-Apply": Refusal(
            as_bearer("admin"),
            GrpcCall(
                "Apply",
                lambda w: pb.ApplyRequest(
                    namespace="prod", operations=[put()], metadata=pb.Metadata(tags={PRINCIPAL_TAG: w.id("prod_read")})
                ),
            ),
            "invalid_argument",
            lambda world: (PRINCIPAL_TAG,),
        ),
        "client-sets-principal/grpc-Commit-begun-by-client": Refusal(
            as_bearer("prod_write"),
            GrpcCall(
                "Commit",
                lambda w: pb.CommitRequest(
                    txn_id=new_transaction_id(),
                    begun_by_client=True,
                    namespace="prod",
                    operations=[put()],
                    metadata=pb.Metadata(tags={PRINCIPAL_TAG: "tok_0123456789abcdef"}),
                ),
            ),
            "invalid_argument",
            lambda world: (PRINCIPAL_TAG,),
        ),
        **{
            f"client-sets-principal/grpc-{method}": Refusal(
                as_bearer("admin"), GrpcCall(method, request), "invalid_argument", lambda world: (PRINCIPAL_TAG,)
            )
            for method, request in {
                "UpdateAgent": lambda w: pb.UpdateAgentRequest(
                    namespace="prod", agent_id="a", status="x", commit_metadata=FORGED
                ),
                "RestoreSnapshot": lambda w: pb.RestoreSnapshotRequest(
                    namespace="prod", name="snap", force=True, metadata=FORGED
                ),
                "Fork": lambda w: pb.ForkRequest(namespace="prod", agent_id="a", target_agent_id="f", metadata=FORGED),
                "RecordEvents": lambda w: pb.RecordEventsRequest(
                    namespace="prod", events=[event_draft()], metadata=FORGED
                ),
                "SetRetention": lambda w: pb.SetRetentionRequest(namespace="prod", keep_versions=3, metadata=FORGED),
            }.items()
        },
        "client-sets-principal/http-POST-commits": Refusal(
            as_bearer("admin"),
            HttpCall(
                "POST",
                "/v1/namespaces/prod/commits",
                {
                    "operations": [{"op": "put", "agent_id": "a", "key": "k", "value": "changed"}],
                    "metadata": {"tags": {PRINCIPAL_TAG: "tok_0123456789abcdef"}},
                },
            ),
            "invalid_argument",
            lambda world: (PRINCIPAL_TAG,),
        ),
    }
)

PROD = "/v1/namespaces/prod"
HTTP_DENIALS: Dict[str, Tuple[str, HttpCall, Callable[[World], Tuple[str, ...]]]] = {
    "read-token/http-PUT-key": ("prod_read", HttpCall("PUT", key_path("prod", "a", "k"), b'"changed"'), None),
    "read-token/http-DELETE-key": ("prod_read", HttpCall("DELETE", key_path("prod", "a", "k")), None),
    "read-token/http-POST-commits": (
        "prod_read",
        HttpCall("POST", f"{PROD}/commits", {"operations": [{"op": "put", "agent_id": "a", "key": "k", "value": 1}]}),
        None,
    ),
    "read-token/http-POST-snapshots": (
        "prod_read",
        HttpCall("POST", f"{PROD}/snapshots", {"name": "no", "agent_id": "a"}),
        None,
    ),
    "read-token/http-DELETE-snapshot": ("prod_read", HttpCall("DELETE", f"{PROD}/snapshots/snap"), None),
    "read-token/http-POST-restore": ("prod_read", HttpCall("POST", f"{PROD}/snapshots/snap/restore"), None),
    "read-token/http-POST-events": (
        "prod_read",
        HttpCall("POST", f"{PROD}/events", {"events": [{"agent_id": "a", "type": "t", "content": 1}]}),
        None,
    ),
    "read-token/http-PATCH-agent": ("prod_read", HttpCall("PATCH", f"{PROD}/agents/a", {"status": "paused"}), None),
    "read-token/http-DELETE-agent": ("prod_read", HttpCall("DELETE", f"{PROD}/agents/a"), None),
    "read-token/http-POST-sessions": ("prod_read", HttpCall("POST", f"{PROD}/sessions", {"agent_id": "a"}), None),
    "read-token/http-POST-tasks": ("prod_read", HttpCall("POST", f"{PROD}/tasks", {"title": "t"}), None),
    "read-token/http-POST-fork": (
        "prod_read",
        HttpCall("POST", f"{PROD}/agents/a/fork", {"target_agent_id": "copy"}),
        None,
    ),
    "alpha-token/http-GET-beta-key": ("alpha_write", HttpCall("GET", key_path("beta", "a", "k")), None),
    "alpha-token/http-PUT-beta-key": ("alpha_write", HttpCall("PUT", key_path("beta", "a", "k"), b"1"), None),
    "alpha-token/http-GET-beta-replay": ("alpha_write", HttpCall("GET", "/v1/namespaces/beta/replay"), None),
    "alpha-token/http-GET-beta-watch": ("alpha_write", HttpCall("GET", "/v1/namespaces/beta/watch?from=1"), None),
    "alpha-token/http-GET-beta-namespaces-listing-item": ("alpha_write", HttpCall("GET", "/v1/namespaces/beta"), None),
    "prod-token/http-PUT-prod-2": ("prod_write", HttpCall("PUT", key_path("prod-2", "a", "k"), b"1"), None),
    "prod-star-token/http-PUT-prod": ("prod_star_write", HttpCall("PUT", key_path("prod", "a", "k"), b"1"), None),
    "write-token/http-PUT-retention": (
        "star_write",
        HttpCall("PUT", f"{PROD}/retention", {"keep_versions": 1}),
        None,
    ),
    "write-token/http-DELETE-retention": ("star_write", HttpCall("DELETE", f"{PROD}/retention"), None),
    "write-token/http-POST-compact": ("star_write", HttpCall("POST", f"{PROD}/compact"), None),
    "star-admin/http-PUT-system": ("admin", HttpCall("PUT", key_path(SYSTEM, "@tokens", "x"), b"1"), SYSTEM_SAYS),
    "star-admin/http-POST-commits-system": (
        "admin",
        HttpCall(
            "POST",
            f"/v1/namespaces/{SYSTEM}/commits",
            {"operations": [{"op": "put", "agent_id": "@audit", "key": "x", "value": 1}]},
        ),
        SYSTEM_SAYS,
    ),
    "star-admin/http-DELETE-system-key": (
        "admin",
        HttpCall("DELETE", "/v1/namespaces/_statehouse/agents/%40tokens/keys/TOKEN"),
        SYSTEM_SAYS,
    ),
}
for case, (label, http_call, says) in HTTP_DENIALS.items():
    REFUSALS[case] = refuse(label, http_call, says or (lambda world, label=label: (f"token {world.id(label)}",)))


def http_path(world: World, call: HttpCall) -> str:
    return call.path.replace("TOKEN", world.id("admin"))


def perform_grpc(world: World, call: GrpcCall, authorization: Optional[str]) -> grpc.RpcError:
    """Makes the call; returns its failure (a call that succeeds fails the test)."""
    metadata = None if authorization is None else [("authorization", authorization)]
    method = getattr(world.stub, call.method)
    request = call.request(world)
    try:
        if call.client_stream:
            method(iter([request]), metadata=metadata, timeout=10)
        elif call.method in ("Watch", "Replay"):
            stream = method(request, metadata=metadata, timeout=10)
            for _ in stream:
                pass
        else:
            method(request, metadata=metadata, timeout=10)
    except grpc.RpcError as failure:
        return failure
    pytest.fail(f"{call.method} was allowed")


def reason_of(failure: grpc.RpcError) -> Optional[str]:
    return dict(failure.trailing_metadata() or ()).get("statehouse-error")


GRPC_CODES = {
    "unauthenticated": grpc.StatusCode.UNAUTHENTICATED,
    "permission_denied": grpc.StatusCode.PERMISSION_DENIED,
    "invalid_argument": grpc.StatusCode.INVALID_ARGUMENT,
}
HTTP_STATUS = {"unauthenticated": 401, "permission_denied": 403, "invalid_argument": 400}


def perform_http(world: World, call: HttpCall, authorization: Optional[str]) -> Reply:
    headers = {} if authorization is None else {"authorization": authorization}
    body = call.body
    if isinstance(body, bytes):
        headers["content-type"] = "application/json"
    return world.http.request(call.method, http_path(world, call), body, headers=headers)


@pytest.mark.parametrize("case", list(REFUSALS))
def test_refusal_catalogue(world: World, case: str) -> None:
    refusal = REFUSALS[case]
    before = world.fingerprint()
    authorization = refusal.credential(world)
    if isinstance(refusal.call, GrpcCall):
        failure = perform_grpc(world, refusal.call, authorization)
        assert failure.code() == GRPC_CODES[refusal.code], failure.details()
        assert reason_of(failure) == refusal.code
        message = failure.details()
    else:
        reply = perform_http(world, refusal.call, authorization)
        assert reply.status == HTTP_STATUS[refusal.code], reply.body
        assert reply.headers["content-type"].startswith("application/problem+json")
        assert reply.problem_code == refusal.code
        if refusal.code == "unauthenticated":
            assert reply.headers.get("www-authenticate") == 'Bearer realm="statehouse"'
        message = reply.json()["detail"]
    for part in refusal.says(world):
        assert part in message, message
    for secret in (world.tokens["admin"], world.tokens["revoked"], world.tokens["expired"]):
        assert secret.split(".", 1)[1] not in message  # no refusal echoes a secret
    assert world.fingerprint() == before


def test_the_catalogue_is_large_enough() -> None:
    assert len(REFUSALS) + len(TRANSACTION_INTRUSIONS) >= 40


# ---- a transaction belongs to the token that began it ---------------------------------------------------------------

TRANSACTION_INTRUSIONS = {
    "Write": lambda txn: ("Write", pb.WriteRequest(txn_id=txn, agent_id="a", key="k", value=b'"intruder"')),
    "TransactionGet": lambda txn: ("TransactionGet", pb.TransactionGetRequest(txn_id=txn, agent_id="a", key="k")),
    "Commit": lambda txn: ("Commit", pb.CommitRequest(txn_id=txn)),
    "Commit-with-operations": lambda txn: ("Commit", pb.CommitRequest(txn_id=txn, operations=[put()])),
}


@pytest.mark.parametrize("intruder", ["prod_write_2", "admin"])
@pytest.mark.parametrize("operation", list(TRANSACTION_INTRUSIONS))
def test_only_the_token_that_began_a_transaction_may_use_it(world: World, intruder: str, operation: str) -> None:
    owner = bearer(world.tokens["prod_write"])
    txn = world.stub.BeginTransaction(pb.BeginTransactionRequest(namespace="prod"), metadata=owner).txn_id
    try:
        world.stub.Write(pb.WriteRequest(txn_id=txn, agent_id="a", key="owned", value=b'"by owner"'), metadata=owner)
        before = world.fingerprint()
        method, request = TRANSACTION_INTRUSIONS[operation](txn)
        with pytest.raises(grpc.RpcError) as refused:
            getattr(world.stub, method)(request, metadata=bearer(world.tokens[intruder]))
        assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED, refused.value.details()
        assert reason_of(refused.value) == "permission_denied"
        assert world.fingerprint() == before
        # The owner's transaction is intact: it reads its own write, not the intruder's.
        seen = world.stub.TransactionGet(pb.TransactionGetRequest(txn_id=txn, agent_id="a", key="k"), metadata=owner)
        assert json.loads(seen.record.value) == "seed of prod"
    finally:
        world.stub.Abort(pb.AbortRequest(txn_id=txn), metadata=owner)
    assert world.fingerprint() == before


def test_the_owner_commits_its_transaction_with_its_principal(world: World) -> None:
    owner = bearer(world.tokens["prod_star_write"])
    txn = world.stub.BeginTransaction(pb.BeginTransactionRequest(namespace="prod-1"), metadata=owner).txn_id
    world.stub.Write(pb.WriteRequest(txn_id=txn, agent_id="tx", key="k", value=b'"mine"'), metadata=owner)
    with pytest.raises(grpc.RpcError) as refused:
        world.stub.Abort(pb.AbortRequest(txn_id=txn), metadata=bearer(world.tokens["prod_write_2"]))
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED
    committed = world.stub.Commit(pb.CommitRequest(txn_id=txn), metadata=owner).result
    history = world.stub.History(
        pb.HistoryRequest(namespace="prod-1", agent_id="tx", key="k", with_metadata=True), metadata=owner
    )
    assert history.versions[0].commit_ts == committed.commit_ts
    assert history.metadata[0].tags[PRINCIPAL_TAG] == world.id("prod_star_write")


# ---- what stays public ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize("path", ["/v1/health", "/healthz", "/readyz", "/metrics", "/v1/openapi.json", "/"])
def test_probes_metrics_the_api_document_and_the_console_need_no_token(world: World, path: str) -> None:
    reply = world.http.get(path)
    assert reply.status == 200, reply.body
    for label, token in world.tokens.items():
        assert token.split(".", 1)[1].encode() not in reply.body, label


def test_grpc_health_and_version_need_no_token(world: World) -> None:
    assert world.stub.Health(pb.HealthRequest()).status == "ok"
    assert world.stub.Version(pb.VersionRequest()).version
    health_pb2 = pytest.importorskip("grpc_health.v1.health_pb2")
    from grpc_health.v1 import health_pb2_grpc

    answer = health_pb2_grpc.HealthStub(world.channel).Check(health_pb2.HealthCheckRequest(service=""))
    assert answer.status == health_pb2.HealthCheckResponse.SERVING


@pytest.mark.parametrize(
    "path", ["/v1/whoami", "/v1/namespaces", "/v1/namespaces/prod/watch", "/v1/namespaces/prod/replay"]
)
def test_the_rest_of_the_http_api_needs_a_token(world: World, path: str) -> None:
    reply = world.http.get(path, headers={"accept": "text/event-stream"} if path.endswith("watch") else None)
    assert reply.status == 401 and reply.problem_code == "unauthenticated"
    assert reply.headers["www-authenticate"] == 'Bearer realm="statehouse"'


# ---- what tokens may do (the catalogue's counterparts) ---------------------------------------------------------------

ALLOWED: Dict[str, Tuple[str, Any]] = {
    "read-token/grpc-GetState": (
        "prod_read",
        GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace="prod", agent_id="a", key="k")),
    ),
    "read-token/grpc-History": (
        "prod_read",
        GrpcCall("History", lambda w: pb.HistoryRequest(namespace="prod", agent_id="a", key="k")),
    ),
    "read-token/grpc-Replay": (
        "prod_read",
        GrpcCall("Replay", lambda w: pb.ReplayRequest(filter=pb.LogFilter(namespace="prod"))),
    ),
    "read-token/grpc-Verify": ("prod_read", GrpcCall("Verify", lambda w: pb.VerifyRequest(namespace="prod"))),
    "read-token/grpc-WhoAmI": ("prod_read", GrpcCall("WhoAmI", lambda w: pb.WhoAmIRequest())),
    "write-token/grpc-Apply": (
        "prod_write",
        GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="prod", operations=[put("w", "k", b"1")])),
    ),
    "write-token/grpc-Commit-begun-by-client": (
        "prod_write",
        GrpcCall(
            "Commit",
            lambda w: pb.CommitRequest(
                txn_id=new_transaction_id(), begun_by_client=True, namespace="prod", operations=[put("w", "t", b"1")]
            ),
        ),
    ),
    "prod-star-token/grpc-Apply-prod-1": (
        "prod_star_write",
        GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="prod-1", operations=[put("w", "k", b"1")])),
    ),
    "prod-star-token/grpc-Fork-prod-1-into-prod-2": (
        "prod_star_write",
        GrpcCall(
            "Fork",
            lambda w: pb.ForkRequest(
                namespace="prod-1", agent_id="a", target_namespace="prod-2", target_agent_id="fork", overwrite=True
            ),
        ),
    ),
    "alpha-token/grpc-Apply-alpha": (
        "alpha_write",
        GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace="alpha", operations=[put("w", "k", b"1")])),
    ),
    "star-read/grpc-read-system-namespace": (
        "star_read",
        GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace=SYSTEM, agent_id="@tokens", key=w.id("prod_read"))),
    ),
    "star-write/grpc-CreateSnapshot": (
        "star_write",
        GrpcCall(
            "CreateSnapshot",
            lambda w: pb.CreateSnapshotRequest(namespace="beta", name=f"s-{uuid.uuid4().hex[:8]}", agent_id="a"),
        ),
    ),
    "star-write/grpc-RecordEvents": (
        "star_write",
        GrpcCall("RecordEvents", lambda w: pb.RecordEventsRequest(namespace="beta", events=[event_draft()])),
    ),
    "namespace-admin/grpc-SetRetention-prod-1": (
        "prod_star_admin",
        GrpcCall("SetRetention", lambda w: pb.SetRetentionRequest(namespace="prod-1", keep_versions=5)),
    ),
    "namespace-admin/grpc-Compact-prod-1": (
        "prod_star_admin",
        GrpcCall("Compact", lambda w: pb.CompactRequest(namespace="prod-1")),
    ),
    "namespace-admin/grpc-grant-prod-1-read": (
        "prod_star_admin",
        GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="sub", grants=[grant("prod-1", "read")])),
    ),
    "namespace-admin/grpc-grant-prod-star-write": (
        "prod_star_admin",
        GrpcCall("CreateToken", lambda w: pb.CreateTokenRequest(name="sub", grants=[grant("prod-*", "write")])),
    ),
    "star-admin/grpc-Backup": (
        "admin",
        GrpcCall("Backup", lambda w: pb.BackupRequest(destination=str(w.scratch / f"backup-{uuid.uuid4().hex}"))),
    ),
    "read-token/http-GET-key": ("prod_read", HttpCall("GET", key_path("prod", "a", "k"))),
    "read-token/http-GET-whoami": ("prod_read", HttpCall("GET", "/v1/whoami")),
    "write-token/http-PUT-key": ("prod_write", HttpCall("PUT", key_path("prod", "w", "http"), b"1")),
    "prod-star-token/http-PUT-prod-1": ("prod_star_write", HttpCall("PUT", key_path("prod-1", "w", "http"), b"1")),
    "star-read/http-GET-system-key": ("star_read", HttpCall("GET", key_path(SYSTEM, "@tokens", "TOKEN"))),
    "star-write/http-POST-events": (
        "star_write",
        HttpCall("POST", "/v1/namespaces/beta/events", {"events": [{"agent_id": "a", "type": "t", "content": 1}]}),
    ),
    "star-admin/http-PUT-retention": ("admin", HttpCall("PUT", "/v1/namespaces/beta/retention", {"keep_versions": 9})),
}


@pytest.mark.parametrize("case", list(ALLOWED))
def test_tokens_may_do_what_their_grants_allow(world: World, case: str) -> None:
    label, call = ALLOWED[case]
    authorization = f"Bearer {world.tokens[label]}"
    if isinstance(call, GrpcCall):
        method = getattr(world.stub, call.method)
        if call.method == "Backup" and backend() == "postgres":
            # Allowed, then refused by the store: a PostgreSQL database is backed up with its own tools.
            with pytest.raises(grpc.RpcError) as refused:
                method(call.request(world), metadata=[("authorization", authorization)], timeout=10)
            assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION, refused.value.details()
            return
        response = method(call.request(world), metadata=[("authorization", authorization)], timeout=10)
        if call.method == "Replay":
            assert sum(len(batch.events) for batch in response) >= 1
        if call.method == "CreateToken":
            world.admin.revoke_token(response.token.id)  # keep the module's token list small
    else:
        reply = perform_http(world, call, authorization)
        assert 200 <= reply.status < 300, reply.body


# ---- namespaces a token can see, and refusals that say nothing of what exists ----------------------------------------


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("prod_read", ["prod"]),
        ("prod_star_write", ["prod-1", "prod-2"]),
        ("alpha_write", ["alpha"]),
    ],
)
def test_namespace_listings_show_only_readable_namespaces(world: World, label: str, expected: List[str]) -> None:
    with Statehouse(url=world.daemon.url, token=world.tokens[label]) as client:
        assert sorted(head.namespace for head in client.list_namespaces()) == expected
    listed = world.http.get("/v1/namespaces", headers={"authorization": f"Bearer {world.tokens[label]}"})
    assert listed.status == 200
    assert sorted(item["namespace"] for item in listed.json()["items"]) == expected


def test_star_read_sees_every_namespace_and_the_system_one(world: World) -> None:
    with Statehouse(url=world.daemon.url, token=world.tokens["star_read"]) as client:
        names = {head.namespace for head in client.list_namespaces()}
    assert names >= {*SEEDED, SYSTEM}


def test_a_refusal_is_the_same_whether_the_namespace_exists(world: World) -> None:
    token = world.tokens["prod_read"]

    def grpc_messages(namespace: str) -> List[Tuple[Any, str]]:
        answers = []
        for call in (
            GrpcCall("GetState", lambda w: pb.GetStateRequest(namespace=namespace, agent_id="a", key="k")),
            GrpcCall("Apply", lambda w: pb.ApplyRequest(namespace=namespace, operations=[put()])),
            GrpcCall("GetHead", lambda w: pb.GetHeadRequest(namespace=namespace)),
        ):
            failure = perform_grpc(world, call, f"Bearer {token}")
            answers.append((failure.code(), failure.details().replace(namespace, "NS")))
        return answers

    def http_answers(namespace: str) -> List[Tuple[int, str]]:
        answers = []
        for method, path, body in (
            ("GET", key_path(namespace, "a", "k"), None),
            ("GET", f"/v1/namespaces/{namespace}", None),
            ("PUT", key_path(namespace, "a", "k"), b"1"),
        ):
            reply = perform_http(world, HttpCall(method, path, body), f"Bearer {token}")
            answers.append((reply.status, reply.body.decode().replace(namespace, "NS")))
        return answers

    existing, missing = grpc_messages("secret-ns"), grpc_messages("no-such-ns")
    assert existing == missing
    assert all(code == grpc.StatusCode.PERMISSION_DENIED for code, _ in existing)
    assert http_answers("secret-ns") == http_answers("no-such-ns")
    assert {status for status, _ in http_answers("secret-ns")} == {403}
    heads = {head.namespace for head in world.admin.list_namespaces()}
    assert "no-such-ns" not in heads


# ---- the audit trail -------------------------------------------------------------------------------------------------


def test_commits_carry_the_principal_that_made_them(world: World) -> None:
    writer = world.tokens["prod_write"]
    world.stub.Apply(
        pb.ApplyRequest(namespace="prod", operations=[put("audit", "grpc", b"1")]), metadata=bearer(writer)
    )
    assert world.http.request("PUT", key_path("prod", "audit", "http"), b"2", headers=auth_header(writer)).status == 201
    with Statehouse(url=world.daemon.url, namespace="prod", token=writer) as client:
        with client.begin_transaction() as tx:
            tx.write("audit", "sdk", 3)
    for key in ("grpc", "http", "sdk"):
        history = world.stub.History(
            pb.HistoryRequest(namespace="prod", agent_id="audit", key=key, with_metadata=True),
            metadata=bearer(world.tokens["star_read"]),
        )
        assert history.metadata[0].tags[PRINCIPAL_TAG] == world.id("prod_write"), key
        over_http = world.http.get(
            key_path("prod", "audit", key) + "/history", headers=auth_header(world.tokens["prod_read"])
        )
        assert over_http.status == 200, over_http.body
        assert over_http.json()["items"][0]["metadata"]["tags"][PRINCIPAL_TAG] == world.id("prod_write"), key


def test_token_changes_are_commits_of_the_system_namespace(world: World) -> None:
    with Statehouse(url=world.daemon.url, token=world.tokens["star_read"], namespace=SYSTEM) as reader:
        start = reader.head().commit_ts
        created, secret = world.admin.create_token("audited", ["beta:read"])
        assert secret.startswith(created.id + ".")
        assert reader.head().commit_ts == start + 1
        record = reader.get_state("@tokens", created.id)
        assert record.commit_ts == start + 1
        assert record.value["secret_sha256"] == hashlib.sha256(secret.split(".", 1)[1].encode()).hexdigest()
        assert record.value["grants"] == ["beta:read"] and record.value["revoked_at"] is None
        assert record.value["created_by"] == world.id("admin")
        assert secret.split(".", 1)[1] not in json.dumps(record.value)
        history = world.stub.History(
            pb.HistoryRequest(namespace=SYSTEM, agent_id="@tokens", key=created.id, with_metadata=True),
            metadata=bearer(world.tokens["star_read"]),
        )
        assert history.metadata[0].tags[PRINCIPAL_TAG] == world.id("admin")

        revoked = world.admin.revoke_token(created.id)
        assert revoked.revoked
        assert reader.head().commit_ts == start + 2
        assert reader.get_state("@tokens", created.id).value["revoked_at"] is not None
        assert reader.verify().ok
    with Statehouse(url=world.daemon.url, token=secret) as late:
        with pytest.raises(UnauthenticatedError, match="revoked"):
            late.head("beta")


def auth_header(token: str) -> Dict[str, str]:
    return {"authorization": f"Bearer {token}"}


# ---- revocation ends open watches ------------------------------------------------------------------------------------


def test_revoking_a_token_ends_its_open_grpc_watch(world: World) -> None:
    _, token = world.admin.create_token("watcher", ["prod:read"])
    stream = world.stub.Watch(pb.WatchRequest(namespace="prod", from_commit_ts=1), metadata=bearer(token), timeout=30)
    assert next(stream).events[0].commit_ts == 1  # it is open and serving
    world.admin.revoke_token(token_id(token))
    with pytest.raises(grpc.RpcError) as ended:
        for _ in range(1000):  # drains what was already sent, then the end
            next(stream)
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()
    assert reason_of(ended.value) == "unauthenticated"


def test_an_open_watch_ends_when_its_token_expires(world: World) -> None:
    _, token = world.admin.create_token("short-watcher", ["prod:read"], expires_at=timedelta(seconds=2))
    stream = world.stub.Watch(pb.WatchRequest(namespace="prod", from_commit_ts=1), metadata=bearer(token), timeout=30)
    try:
        assert next(stream).events[0].commit_ts == 1
    except grpc.RpcError as failure:  # only if the 2 s passed already
        assert failure.code() == grpc.StatusCode.UNAUTHENTICATED
        return
    with Statehouse(url=world.daemon.url, token=token) as late:  # bounded wait for the expiry
        for _ in range(100):
            try:
                late.whoami()
            except UnauthenticatedError:
                break
            time.sleep(0.1)
    after = world.admin.apply([Put("expiry", "k", 1)], namespace="prod").commit_ts
    delivered = []
    with pytest.raises(grpc.RpcError) as ended:
        for _ in range(1000):
            delivered.extend(event.commit_ts for event in next(stream).events)
    assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()
    assert after not in delivered  # nothing committed after the expiry reached the watcher


def test_revoking_a_token_ends_the_sdk_watch_with_unauthenticated(world: World) -> None:
    _, token = world.admin.create_token("sdk-watcher", ["prod:read"])
    with Statehouse(url=world.daemon.url, namespace="prod", token=token) as client:
        with client.watch(from_ts=1) as stream:
            assert next(stream).commit_ts == 1
            world.admin.revoke_token(token_id(token))
            with pytest.raises(UnauthenticatedError) as ended:
                for _ in range(1000):
                    next(stream)
            assert ended.value.reason == "unauthenticated" and ended.value.code == "UNAUTHENTICATED"


def test_revoking_a_token_ends_its_open_http_watch_with_a_problem(world: World) -> None:
    _, token = world.admin.create_token("sse-watcher", ["prod:read"])
    conn, events = sse_events(world.http, "/v1/namespaces/prod/watch?from=1", headers=auth_header(token), timeout=30)
    try:
        first = next(events)
        assert first["event"] == "commit" and json.loads(first["data"])["commit_ts"] == 1
        world.admin.revoke_token(token_id(token))
        last = None
        for event in events:  # ends when the daemon closes the stream
            last = event
            if event.get("event") == "problem":
                break
        assert last is not None and last.get("event") == "problem", last
        assert json.loads(last["data"])["code"] == "unauthenticated"
    finally:
        conn.close()


class OpenSession:
    """A raw Session stream the test feeds one request at a time."""

    def __init__(self, world: World, token: str, timeout: float) -> None:
        import queue

        self.requests: queue.Queue[Optional[pb.SessionRequest]] = queue.Queue()
        self.stream = world.stub.Session(self._outgoing(), metadata=bearer(token), timeout=timeout)

    def _outgoing(self) -> Iterator[pb.SessionRequest]:
        while True:
            request = self.requests.get(timeout=60)
            if request is None:
                return
            yield request

    def ask(self, request: pb.SessionRequest) -> pb.SessionResponse:
        self.requests.put(request)
        return next(self.stream)

    def close(self) -> None:
        self.requests.put(None)
        self.stream.cancel()


def session_get(request_id: int) -> pb.SessionRequest:
    return pb.SessionRequest(request_id=request_id, get=pb.GetStateRequest(namespace="prod", agent_id="a", key="k"))


def test_revoking_a_token_refuses_every_later_request_of_its_open_session(world: World) -> None:
    _, token = world.admin.create_token("session-user", ["prod:read", "prod:write"])
    session = OpenSession(world, token, timeout=30)
    try:
        first = session.ask(session_get(1))
        assert first.request_id == 1 and first.WhichOneof("response") == "get"
        world.admin.revoke_token(token_id(token))
        before = world.fingerprint()
        write = pb.ApplyRequest(namespace="prod", operations=[put()])
        # The session ends (UNAUTHENTICATED); a request sent after the revocation is refused or never answered.
        try:
            answer = session.ask(pb.SessionRequest(request_id=3, apply=write))
            assert answer.WhichOneof("response") == "error", answer
            assert answer.error.reason == "unauthenticated" and "revoked" in answer.error.message
        except grpc.RpcError as error:
            assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
        assert world.fingerprint() == before
    finally:
        session.close()


def test_revoking_a_token_ends_its_open_session_stream(world: World) -> None:
    _, token = world.admin.create_token("session-ended", ["prod:read"])
    session = OpenSession(world, token, timeout=3)
    try:
        assert session.ask(session_get(1)).WhichOneof("response") == "get"
        world.admin.revoke_token(token_id(token))
        with pytest.raises(grpc.RpcError) as ended:  # nothing more is sent: the daemon ends the stream by itself
            for _ in range(1000):
                next(session.stream)
        assert ended.value.code() == grpc.StatusCode.UNAUTHENTICATED, ended.value.details()
    finally:
        session.close()


# ---- the SDK ---------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["token-argument", "metadata", "environment"])
def test_the_sync_client_sends_the_token_on_every_call_and_stream(world: World, form: str, monkeypatch) -> None:
    token = world.tokens["prod_star_write"]
    arguments: Dict[str, Any] = {"url": world.daemon.url, "namespace": "prod-2"}
    if form == "token-argument":
        arguments["token"] = token
    elif form == "metadata":
        arguments["metadata"] = [("authorization", f"Bearer {token}"), ("x-other", "kept")]
    else:
        monkeypatch.setenv("STATEHOUSE_TOKEN", token)
    with Statehouse(**arguments) as client:
        assert client.whoami().principal_id == token_id(token)
        committed = client.apply([Put("sdk", form, 1)])
        assert client.get_state("sdk", form).value == 1
        with client.begin_transaction() as tx:  # a commit begun by the client
            assert tx.get("sdk", form).value == 1
            tx.write("sdk", form, 2)
        assert [event.commit_ts for event in client.replay(start_ts=committed.commit_ts)][:1] == [committed.commit_ts]
        with client.watch(from_ts=committed.commit_ts) as stream:
            assert next(stream).commit_ts == committed.commit_ts
        assert [head.namespace for head in client.list_namespaces()] == ["prod-1", "prod-2"]


@pytest.mark.parametrize("pipelined", [True, False])
@pytest.mark.parametrize("form", ["token-argument", "metadata"])
def test_the_async_client_sends_the_token_on_the_session_calls_and_streams(
    world: World, form: str, pipelined: bool
) -> None:
    token = world.tokens["prod_star_write"]
    extra: Dict[str, Any] = (
        {"token": token} if form == "token-argument" else {"metadata": [("authorization", f"Bearer {token}")]}
    )

    async def main() -> None:
        async with AsyncStatehouse(url=world.daemon.url, namespace="prod-1", pipelined=pipelined, **extra) as client:
            committed = await client.apply([Put("async", form, 0)])
            values = await asyncio.gather(*(client.get_state("async", form) for _ in range(5)))
            assert [state.value for state in values] == [0] * 5
            async with client.begin_transaction() as tx:
                assert (await tx.get("async", form)).value == 0
                tx.write("async", form, 1)
            assert [event.commit_ts async for event in client.replay(start_ts=committed.commit_ts)][0] == (
                committed.commit_ts
            )
            async with client.watch(from_ts=committed.commit_ts) as stream:
                assert (await stream.__anext__()).commit_ts == committed.commit_ts
            assert (await client.whoami()).principal_id == token_id(token)

    asyncio.run(main())


def test_the_sdk_raises_unauthenticated_and_permission_denied(world: World) -> None:
    with Statehouse(url=world.daemon.url, namespace="prod") as anonymous:
        with pytest.raises(UnauthenticatedError) as missing:
            anonymous.get_state("a", "k")
        assert isinstance(missing.value, PermissionDeniedError)  # as the SDK raised it before the class existed
        assert (missing.value.code, missing.value.reason) == ("UNAUTHENTICATED", "unauthenticated")
        assert anonymous.health() == "ok"  # health stays public
        assert anonymous.version()[0]
    with Statehouse(url=world.daemon.url, namespace="prod", token=world.tokens["prod_read"]) as reader:
        with pytest.raises(PermissionDeniedError) as refused:
            reader.apply([Put("a", "k", "changed")])
        assert not isinstance(refused.value, UnauthenticatedError)
        assert (refused.value.code, refused.value.reason) == ("PERMISSION_DENIED", "permission_denied")
        assert world.id("prod_read") in str(refused.value)

    async def main() -> None:
        async with AsyncStatehouse(url=world.daemon.url, namespace="prod", token=world.tokens["revoked"]) as client:
            with pytest.raises(UnauthenticatedError, match="revoked"):
                await client.get_state("a", "k")  # over the session
        async with AsyncStatehouse(url=world.daemon.url, namespace="prod", token=world.tokens["prod_read"]) as client:
            with pytest.raises(PermissionDeniedError) as refused:
                async with client.begin_transaction() as tx:
                    tx.write("a", "k", "changed")
            assert refused.value.reason == "permission_denied"

    asyncio.run(main())
    assert world.admin.get_state("a", "k", namespace="prod").value == "seed of prod"


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"token": "tok_x.y", "metadata": [("authorization", "Bearer tok_x.y")]}, "not both"),
        ({"token": "Bearer tok_x.y"}, "without 'Bearer '"),
        ({"token": ""}, "token"),
        ({"token": "tok_x\ny"}, "printable ASCII"),
        ({"token": b"tok_x.y"}, "must be a str"),
    ],
)
def test_bad_token_arguments_are_refused_before_any_call(arguments: Dict[str, Any], message: str) -> None:
    with pytest.raises(InvalidArgumentError, match=message):
        Statehouse(url="127.0.0.1:1", **arguments)
    with pytest.raises(InvalidArgumentError, match=message):
        AsyncStatehouse(url="127.0.0.1:1", **arguments)


def test_metadata_authorization_wins_over_the_environment(world: World, monkeypatch) -> None:
    monkeypatch.setenv("STATEHOUSE_TOKEN", world.tokens["revoked"])
    with Statehouse(url=world.daemon.url, metadata=bearer(world.tokens["prod_read"])) as client:
        assert client.whoami().principal_id == world.id("prod_read")
    with Statehouse(url=world.daemon.url, token=world.tokens["star_read"]) as client:  # and the argument wins
        assert client.whoami().principal_id == world.id("star_read")
    monkeypatch.setenv("STATEHOUSE_TOKEN", "two words")
    with pytest.raises(InvalidArgumentError, match="STATEHOUSE_TOKEN"):
        Statehouse(url=world.daemon.url)


def test_the_token_calls_of_both_clients(world: World) -> None:
    with Statehouse(url=world.daemon.url, token=world.tokens["prod_star_admin"]) as admin:
        me = admin.whoami()
        assert (me.principal_id, me.name, me.auth_required) == (world.id("prod_star_admin"), "prod_star_admin", True)
        assert me.grants == [AccessGrant("prod-*", "admin")] and str(me.grants[0]) == "prod-*:admin"
        created, secret = admin.create_token(
            "sdk-made", ["prod-1:read", ("prod-2", "write")], expires_at=timedelta(hours=1)
        )
        assert created.name == "sdk-made" and created.created_by == world.id("prod_star_admin")
        assert [str(g) for g in created.grants] == ["prod-1:read", "prod-2:write"]
        assert created.expires_at is not None and not created.revoked
        listed = {token.id for token in admin.list_tokens()}
        assert created.id in listed and world.id("alpha_write") not in listed  # only what it administers
        with Statehouse(url=world.daemon.url, token=secret) as made:
            assert made.whoami().principal_id == created.id
            assert made.get_state("a", "k", namespace="prod-1").value == "seed of prod-1"
        revoked = admin.revoke_token(created.id)
        assert revoked.revoked and revoked.revoked_at is not None
        assert created.id not in {token.id for token in admin.list_tokens()}
        assert created.id in {token.id for token in admin.list_tokens(include_revoked=True)}
        with pytest.raises(PermissionDeniedError):
            admin.create_token("too-wide", ["*:read"])
        with pytest.raises(InvalidArgumentError, match="read, write or admin"):
            admin.create_token("bad-role", ["prod-1:owner"])

    async def main() -> None:
        async with AsyncStatehouse(url=world.daemon.url, token=world.tokens["admin"]) as admin:
            assert (await admin.whoami()).grants == [AccessGrant("*", "admin")]
            created, secret = await admin.create_token("async-made", [AccessGrant("beta", "read")])
            assert created.id in {token.id for token in await admin.list_tokens()}
            assert (await admin.revoke_token(created.id)).revoked
            async with AsyncStatehouse(url=world.daemon.url, token=secret) as made:
                with pytest.raises(UnauthenticatedError):
                    await made.whoami()

    asyncio.run(main())


def test_whoami_of_a_daemon_without_auth(daemon: Daemon) -> None:
    with Statehouse(url=daemon.url) as client:
        me = client.whoami()
        assert me.auth_required is False
        assert (me.principal_id, me.grants) == ("anonymous", [AccessGrant("*", "admin")])


# ---- statehousectl ---------------------------------------------------------------------------------------------------


def test_statehousectl_with_tokens(world: World, tmp_path: Path) -> None:
    admin_file = world.daemon.data_dir / "admin.token"

    def ctl(*args: str, env: Optional[Dict[str, str]] = None) -> subprocess.CompletedProcess:
        environment = {k: v for k, v in os.environ.items() if not k.startswith("STATEHOUSE_TOKEN")}
        environment.update(env or {})
        return subprocess.run(
            [statehousectl(), *args, "--addr", world.daemon.url],
            capture_output=True,
            text=True,
            timeout=30,
            env=environment,
        )

    anonymous = ctl("get", "a", "k", "-n", "prod")
    assert anonymous.returncode == 5, anonymous.stderr
    created = ctl(
        "token", "create", "--name", "ctl", "--grant", "beta:read", "-o", "json", "--token-file", str(admin_file)
    )
    assert created.returncode == 0, created.stderr
    made = json.loads(created.stdout)
    assert made["grants"] == ["beta:read"] and made["secret"].startswith(made["id"] + ".")
    me = ctl("whoami", "-o", "json", env={"STATEHOUSE_TOKEN": made["secret"]})
    assert me.returncode == 0 and json.loads(me.stdout)["principal_id"] == made["id"]
    refused = ctl("put", "a", "k", "1", "-n", "beta", env={"STATEHOUSE_TOKEN": made["secret"]})
    assert refused.returncode == 5 and made["id"] in refused.stderr
    assert made["secret"].split(".", 1)[1] not in refused.stderr
    revoked = ctl("token", "revoke", made["id"], "--token-file", str(admin_file))
    assert revoked.returncode == 0, revoked.stderr
    late = ctl("get", "a", "k", "-n", "beta", env={"STATEHOUSE_TOKEN": made["secret"]})
    assert late.returncode == 5


# ---- secrets ---------------------------------------------------------------------------------------------------------


def files_holding(directory: Path, needles: Dict[str, bytes], skip: Tuple[str, ...] = ()) -> List[Tuple[str, str]]:
    """(file, needle label) for every file under `directory` that holds a needle."""
    found = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file() or path.name in skip:
            continue
        data = path.read_bytes()
        found.extend((path.name, label) for label, needle in needles.items() if needle in data)
    return found


def test_secrets_never_reach_the_data_directory_or_the_log(tmp_path: Path) -> None:
    daemon = Daemon(tmp_path / "data", ["--auth", "required"]).start()
    try:
        admin_file = daemon.data_dir / "admin.token"
        assert stat.S_IMODE(admin_file.stat().st_mode) == 0o600
        admin_token = admin_file.read_text()
        assert admin_token.endswith("\n")
        admin_token = admin_token.strip()
        head, _, secret_part = admin_token.partition(".")
        assert len(head) == len("tok_") + 16 and all(c in "0123456789abcdef" for c in head[4:])
        assert re.fullmatch(r"[A-Za-z0-9_-]{43}", secret_part)  # 32 bytes, base64url without padding
        assert "Created the first admin token" in daemon.log()
        secrets: Dict[str, str] = {}
        with Statehouse(url=daemon.url, token=admin_token) as admin:
            for index in range(4):
                _, secrets[f"token-{index}"] = admin.create_token(f"t{index}", [f"ns-{index}:write"])
            for label, token in secrets.items():
                with Statehouse(url=daemon.url, namespace=f"ns-{label[-1]}", token=token) as client:
                    client.apply([Put("a", "k", f"written by {label}")])
                    with client.begin_transaction() as tx:
                        tx.write("a", "k2", 1)
            admin.revoke_token(token_id(secrets["token-0"]))
            # A refused request names the token but never echoes its secret into the log.
            with Statehouse(url=daemon.url, token=secrets["token-1"]) as client:
                with pytest.raises(PermissionDeniedError):
                    client.apply([Put("a", "k", 1)], namespace="elsewhere")
            with Statehouse(url=daemon.url, token=secrets["token-0"]) as client:
                with pytest.raises(UnauthenticatedError):
                    client.head("ns-0")

        def needles(include_admin: bool) -> Dict[str, bytes]:
            every = dict(secrets, **({"admin": admin_token} if include_admin else {}))
            result: Dict[str, bytes] = {}
            for label, token in every.items():
                part = token.split(".", 1)[1]
                result[f"{label} secret"] = part.encode()
                result[f"{label} secret (utf-16)"] = part.encode("utf-16-le")
            return result

        # While it runs (the WAL holds the recent commits), then after a clean stop.
        assert files_holding(daemon.data_dir, needles(True), skip=("admin.token",)) == []
        assert files_holding(daemon.data_dir, needles(False)) == []  # admin.token holds only the admin secret
        daemon.stop()
        assert files_holding(daemon.data_dir, needles(True), skip=("admin.token",)) == []
        assert files_holding(daemon.data_dir, needles(False)) == []
        log = daemon.log_path.read_bytes()
        assert [label for label, needle in needles(True).items() if needle in log] == []
        assert b"tok_" in log  # token ids are logged, their secrets never

        # The daemon's only settings dump (--example-config) with auth on: no secret either.
        dump = subprocess.run(
            [str(statehoused_binary()), "--example-config", "--data-dir", str(daemon.data_dir), "--auth", "required"],
            capture_output=True,
            timeout=30,
        )
        output = dump.stdout + dump.stderr
        assert b"auth" in output
        assert [label for label, needle in needles(True).items() if needle in output] == []
    finally:
        daemon.stop()


def test_the_bootstrap_token_file_setting(tmp_path: Path) -> None:
    target = tmp_path / "elsewhere" / "boot.token"
    target.parent.mkdir()
    daemon = Daemon(tmp_path / "data", ["--auth", "required", "--auth-bootstrap-token-file", str(target)]).start()
    try:
        assert not (daemon.data_dir / "admin.token").exists()
        assert stat.S_IMODE(target.stat().st_mode) == 0o600
        written = target.read_text()
        with Statehouse(url=daemon.url, token=written) as admin:
            assert admin.whoami().grants == [AccessGrant("*", "admin")]
        daemon.restart()  # a store that has a token writes no second one
        assert target.read_text() == written
        with Statehouse(url=daemon.url, token=written) as admin:
            assert len(admin.list_tokens()) == 1
    finally:
        daemon.stop()


# ---- certificate principals (mutual TLS) -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def certificates(tmp_path_factory: pytest.TempPathFactory) -> Path:
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    from test_tls import make_ca, make_leaf, openssl

    directory = tmp_path_factory.mktemp("auth-certs")
    make_ca(directory, "ca")
    make_leaf(directory, "ca", "server", 1001, server=True)
    make_leaf(directory, "ca", "operator", 2001, server=False)  # the admin's connection; no mapping
    make_leaf(directory, "ca", "agent-1", 2002, server=False)  # mapped to grants below
    make_leaf(directory, "ca", "agent-2", 2003, server=False)  # never mapped
    # A subject that starts like the mapped one but is not equal to it: CN=agent-1,O=Acme.
    openssl("req", "-newkey", "rsa:2048", "-nodes", "-subj", "/O=Acme/CN=agent-1", "-keyout", "acme.key",
            "-out", "acme.csr", cwd=directory)  # fmt: skip
    (directory / "acme.ext").write_text("extendedKeyUsage=clientAuth\n")
    openssl("x509", "-req", "-in", "acme.csr", "-CA", "ca.crt", "-CAkey", "ca.key", "-set_serial", "2004",
            "-days", "2", "-extfile", "acme.ext", "-out", "acme.crt", cwd=directory)  # fmt: skip
    return directory


def rfc2253_subject(certificate: Path) -> str:
    printed = subprocess.run(
        ["openssl", "x509", "-noout", "-subject", "-nameopt", "RFC2253", "-in", str(certificate)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    return printed.removeprefix("subject=")


@pytest.mark.parametrize("direct_unary", [True, False], ids=["direct-unary", "through-grpc-swift"])
def test_a_certificate_principal_authenticates_without_a_token(
    tmp_path: Path, certificates: Path, direct_unary: bool
) -> None:
    """The sync client's calls are unary: answered from their frames (direct-unary) or through grpc-swift, the same."""
    certs = certificates

    def tls(name: str) -> TLS:
        return TLS(
            ca_file=str(certs / "ca.crt"), cert_file=str(certs / f"{name}.crt"), key_file=str(certs / f"{name}.key")
        )

    assert rfc2253_subject(certs / "agent-1.crt") == "CN=agent-1"
    args = ["--auth", "required", "--tls-cert", str(certs / "server.crt"), "--tls-key", str(certs / "server.key")]
    args += ["--tls-client-ca", str(certs / "ca.crt"), "--grpc-direct-unary", "true" if direct_unary else "false"]
    daemon = Daemon(tmp_path / "data", args, client_tls=tls("operator")).start()
    try:
        admin_token = (daemon.data_dir / "admin.token").read_text().strip()
        with Statehouse(url=daemon.url, tls=tls("operator"), token=admin_token) as admin:
            admin.apply([Put("a", "k", "other")], namespace="other")
            principal, secret = admin.create_token("agent one", ["fleet:write"], certificate_subject="CN=agent-1")
            assert principal.certificate_subject == "CN=agent-1"
        with Statehouse(url=daemon.url, tls=tls("agent-1"), namespace="fleet") as agent:
            me = agent.whoami()
            assert (me.principal_id, me.grants) == (principal.id, [AccessGrant("fleet", "write")])
            committed = agent.apply([Put("a", "k", "by certificate")])
            assert agent.get_state("a", "k").value == "by certificate"
            assert agent.history("a", "k")[0].commit_ts == committed.commit_ts
            with pytest.raises(PermissionDeniedError) as outside:
                agent.get_state("a", "k", namespace="other")
            assert principal.id in str(outside.value) and not isinstance(outside.value, UnauthenticatedError)
            with pytest.raises(PermissionDeniedError):
                agent.apply([Put("a", "k", 1)], namespace="other")
            with pytest.raises(PermissionDeniedError):
                agent.create_token("mine", ["fleet:read"])
        # Over HTTPS too.
        context = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        context.load_cert_chain(str(certs / "agent-1.crt"), str(certs / "agent-1.key"))
        assert https_json(daemon, context, "/v1/whoami")[1]["principal_id"] == principal.id
        # A certificate the CA signed but no principal maps, and no token: unauthenticated on both listeners.
        with Statehouse(url=daemon.url, tls=tls("agent-2"), namespace="fleet") as stranger:
            with pytest.raises(UnauthenticatedError):
                stranger.get_state("a", "k")
            with pytest.raises(UnauthenticatedError):
                stranger.apply([Put("a", "k", "stranger")])
        # The subject must equal the mapping exactly (RFC 4514 form), not merely contain it.
        assert rfc2253_subject(certs / "acme.crt") == "CN=agent-1,O=Acme"
        with Statehouse(url=daemon.url, tls=tls("acme"), namespace="fleet") as lookalike:
            with pytest.raises(UnauthenticatedError):
                lookalike.get_state("a", "k")
        unmapped = ssl.create_default_context(cafile=str(certs / "ca.crt"))
        unmapped.load_cert_chain(str(certs / "agent-2.crt"), str(certs / "agent-2.key"))
        assert https_json(daemon, unmapped, "/v1/namespaces/fleet")[0] == 401
        # Revoked, the certificate authenticates nothing.
        with Statehouse(url=daemon.url, tls=tls("operator"), token=admin_token) as admin:
            admin.revoke_token(principal.id)
            assert admin.get_state("a", "k", namespace="fleet").value == "by certificate"
        with Statehouse(url=daemon.url, tls=tls("agent-1"), namespace="fleet") as agent:
            with pytest.raises(UnauthenticatedError):
                agent.get_state("a", "k")
    finally:
        daemon.stop()


def https_json(daemon: Daemon, context: ssl.SSLContext, path: str) -> Tuple[int, Any]:
    import http.client

    conn = http.client.HTTPSConnection("127.0.0.1", daemon.http_port, context=context, timeout=10)
    try:
        conn.request("GET", path)
        response = conn.getresponse()
        return response.status, json.loads(response.read() or b"null")
    finally:
        conn.close()


# ---- MCP -------------------------------------------------------------------------------------------------------------


def test_the_mcp_endpoint_needs_a_token(tmp_path: Path) -> None:
    pytest.importorskip("mcp")
    import urllib.error
    import urllib.request

    from mcp import ClientSession
    from mcp.client.streamable_http import streamable_http_client
    from mcp.shared._httpx_utils import create_mcp_http_client

    port = free_port()
    args = ["--auth", "required", "--mcp-listen", f"127.0.0.1:{port}", "--mcp-namespace", "assistant"]
    daemon = Daemon(tmp_path / "data", args).start()
    url = f"http://127.0.0.1:{port}/mcp"
    initialize = json.dumps(
        {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "t", "version": "1"},
            },
        }
    ).encode()
    try:
        admin_token = (daemon.data_dir / "admin.token").read_text().strip()
        with Statehouse(url=daemon.url, token=admin_token) as admin:
            _, reader = admin.create_token("mcp reader", ["assistant:read"])

        for authorization in (None, "Bearer tok_0123456789abcdef." + "A" * 43, f"Basic {admin_token}"):
            headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
            if authorization:
                headers["Authorization"] = authorization
            request = urllib.request.Request(url, data=initialize, headers=headers, method="POST")
            with pytest.raises(urllib.error.HTTPError) as refused:
                urllib.request.urlopen(request, timeout=10)
            assert refused.value.code == 401

        async def session_with(token: str, work: Callable[[ClientSession], Any]) -> None:
            async with create_mcp_http_client(headers={"Authorization": f"Bearer {token}"}) as http:
                async with streamable_http_client(url, http_client=http) as streams:
                    async with ClientSession(streams[0], streams[1]) as session:
                        await session.initialize()
                        await work(session)

        async def as_admin(session: ClientSession) -> None:
            result = await session.call_tool("remember", {"agent_id": "scout", "key": "plan", "value": ["fly"]})
            assert not result.is_error, result.content[0].text

        async def as_reader(session: ClientSession) -> None:
            refused = await session.call_tool("remember", {"agent_id": "scout", "key": "plan", "value": ["walk"]})
            assert refused.is_error
            assert "permission_denied" in refused.content[0].text and token_id(reader) in refused.content[0].text
            recalled = await session.call_tool("recall", {"agent_id": "scout", "key": "plan"})
            assert not recalled.is_error and json.loads(recalled.content[0].text)["value"] == ["fly"]

        asyncio.run(session_with(admin_token, as_admin))
        asyncio.run(session_with(reader, as_reader))
        with Statehouse(url=daemon.url, token=admin_token, namespace="assistant") as admin:
            assert admin.get_state("scout", "plan").value == ["fly"]
            assert admin.head().commit_ts == 1
        stub = statehouse_pb2_grpc.StatehouseServiceStub(grpc.insecure_channel(daemon.url))
        tagged = stub.History(
            pb.HistoryRequest(namespace="assistant", agent_id="scout", key="plan", with_metadata=True),
            metadata=bearer(admin_token),
        )
        assert tagged.metadata[0].tags[PRINCIPAL_TAG] == token_id(admin_token)
    finally:
        daemon.stop()
