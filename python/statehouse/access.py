"""Access control: the tokens of a daemon started with ``--auth required``, their grants, and who the daemon takes a
client for.

A token is ``tok_<16 hex>.<secret>``; the client sends it with every call (``Statehouse(token=...)``, or
$STATEHOUSE_TOKEN). Each grant is ``PATTERN:ROLE``: PATTERN is a namespace (``prod``), a prefix and ``*``
(``prod-*``: ``prod-1``, ``prod-eu``, not ``prod``) or ``*`` (every namespace); ROLE is ``read``, ``write`` (read plus
every change) or ``admin`` (write plus tokens, retention, compaction, backup, import). A caller creates, lists and
revokes only tokens within what it administers. The daemon keeps tokens as commits of the system namespace
``_statehouse`` (agent ``@tokens``), so that creating and revoking them is in its log; it stores a hash of each
secret, never the secret.

The types the clients return, and the plans both clients run (see ``_operations``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from typing import Iterable, List, Optional, Sequence, Tuple, Union

from . import exceptions as errors
from ._operations import Call, Plan
from ._proto import statehouse_pb2 as pb
from ._time import datetime_from_micros, micros_from_datetime

__all__ = ["AccessGrant", "AccessToken", "Principal", "GrantLike", "ROLES"]

# The roles, each allowing what the one before allows.
ROLES = ("read", "write", "admin")


@dataclass(frozen=True)
class AccessGrant:
    """A role on the namespaces a pattern matches: ``AccessGrant("prod-*", "write")``, written ``prod-*:write``."""

    namespace_pattern: str
    role: str

    def __str__(self) -> str:
        return f"{self.namespace_pattern}:{self.role}"

    @classmethod
    def parse(cls, text: str) -> AccessGrant:
        """A grant from its text ``PATTERN:ROLE`` (the form ``statehousectl token create --grant`` takes)."""
        pattern, colon, role = text.rpartition(":")
        if not colon or not pattern or not role:
            raise errors.InvalidArgumentError(
                f"a grant is PATTERN:ROLE such as 'prod:read' or 'prod-*:write', not {text!r}"
            )
        return cls(pattern, role)


# What the token calls take for a grant: an AccessGrant, its text "PATTERN:ROLE", or a (pattern, role) pair.
GrantLike = Union[AccessGrant, str, Tuple[str, str]]


@dataclass(frozen=True)
class AccessToken:
    """A token as the daemon keeps it (never its secret).

    Attributes:
        id: ``tok_<16 hex>``, the part before the dot of the token; commits made with it carry it as the metadata tag
            ``statehouse.principal``.
        name: a label for people: what or who the token is for.
        grants: what it may do.
        created_at: when it was created (UTC); created_by: the id of the token that created it (``bootstrap`` for
            the first admin token).
        expires_at: when it stops authenticating (UTC), or None for never.
        revoked_at: when it was revoked (UTC), or None.
        certificate_subject: for a certificate principal (mutual TLS), the client-certificate subject it maps to
            grants (RFC 4514, such as ``CN=agent-1``); such a principal has no secret. Empty for a token.
    """

    id: str
    name: str
    grants: List[AccessGrant] = field(default_factory=list)
    created_at: Optional[datetime] = None
    created_by: str = ""
    expires_at: Optional[datetime] = None
    revoked_at: Optional[datetime] = None
    certificate_subject: str = ""

    @property
    def revoked(self) -> bool:
        return self.revoked_at is not None


@dataclass(frozen=True)
class Principal:
    """Who the daemon takes a client for (:meth:`Statehouse.whoami`).

    Attributes:
        principal_id: the token's id (or the certificate principal's); ``anonymous`` (with the grant ``*:admin``)
            when the daemon requires no token.
        name: the token's name.
        grants: what it may do.
        auth_required: whether the daemon requires a token (``--auth required``); when it does not, anyone who
            reaches it may do anything.
    """

    principal_id: str
    name: str
    grants: List[AccessGrant] = field(default_factory=list)
    auth_required: bool = False


def _grant(item: GrantLike) -> pb.AccessGrant:
    if isinstance(item, AccessGrant):
        grant = item
    elif isinstance(item, str):
        grant = AccessGrant.parse(item)
    elif isinstance(item, (tuple, list)) and len(item) == 2 and all(isinstance(part, str) for part in item):
        grant = AccessGrant(item[0], item[1])
    else:
        raise errors.InvalidArgumentError(
            f"a grant is an AccessGrant, 'PATTERN:ROLE' text or a (pattern, role) pair, not {item!r}"
        )
    if grant.role not in ROLES:
        raise errors.InvalidArgumentError(f"a grant's role is read, write or admin, not {grant.role!r}")
    return pb.AccessGrant(namespace_pattern=grant.namespace_pattern, role=grant.role)


def _grants(messages: Iterable[pb.AccessGrant]) -> List[AccessGrant]:
    return [AccessGrant(grant.namespace_pattern, grant.role) for grant in messages]


def access_token(message: pb.AccessToken) -> AccessToken:
    return AccessToken(
        id=message.id,
        name=message.name,
        grants=_grants(message.grants),
        created_at=datetime_from_micros(message.created_at_micros) if message.created_at_micros else None,
        created_by=message.created_by,
        expires_at=datetime_from_micros(message.expires_at_micros) if message.HasField("expires_at_micros") else None,
        revoked_at=datetime_from_micros(message.revoked_at_micros) if message.HasField("revoked_at_micros") else None,
        certificate_subject=message.certificate_subject,
    )


def create_token(
    name: str,
    grants: Sequence[GrantLike],
    expires_at: Union[None, datetime, timedelta],
    certificate_subject: Optional[str],
) -> Plan:
    if not isinstance(name, str):
        raise errors.InvalidArgumentError(f"a token's name must be a str, not {type(name).__name__}")
    if isinstance(grants, (str, AccessGrant)):
        grants = [grants]
    request = pb.CreateTokenRequest(
        name=name, grants=[_grant(grant) for grant in grants], certificate_subject=certificate_subject or ""
    )
    if isinstance(expires_at, timedelta):
        expires_at = datetime.now(timezone.utc) + expires_at
    if expires_at is not None:
        if not isinstance(expires_at, datetime):
            raise errors.InvalidArgumentError(f"expires_at must be a datetime or a timedelta, not {expires_at!r}")
        request.expires_at_micros = micros_from_datetime(expires_at)
    response = yield Call("CreateToken", request)
    return access_token(response.token), response.secret


def list_tokens(include_revoked: bool) -> Plan:
    response = yield Call("ListTokens", pb.ListTokensRequest(include_revoked=bool(include_revoked)), read_only=True)
    return [access_token(token) for token in response.tokens]


def revoke_token(token_id: str) -> Plan:
    if not isinstance(token_id, str) or not token_id:
        raise errors.InvalidArgumentError(
            f"revoke_token needs a token id such as 'tok_0123456789abcdef', not {token_id!r}"
        )
    # Given a whole token by mistake, revoke it by its id: the secret is never sent for this.
    response = yield Call("RevokeToken", pb.RevokeTokenRequest(id=token_id.split(".", 1)[0]))
    return access_token(response)


def whoami() -> Plan:
    response = yield Call("WhoAmI", pb.WhoAmIRequest(), read_only=True)
    return Principal(
        principal_id=response.principal_id,
        name=response.name,
        grants=_grants(response.grants),
        auth_required=response.auth_required,
    )
