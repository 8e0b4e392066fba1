"""Signed tree heads and verified reads, written from docs/architecture.md independently of the Swift code.

A daemon signs its namespaces' Merkle tree heads with an Ed25519 key. With that key's public half (saved from
``statehousectl ledger-key`` or :meth:`statehouse.Statehouse.ledger_key`) anyone can check a head, an event's
inclusion in it, and that a later head extends an earlier one (:mod:`statehouse.merkle`). A verified read
(``get_state(..., verify=True)``) checks all three before it returns.
"""

from __future__ import annotations

import base64
import hashlib
import struct
import threading
from dataclasses import dataclass, field
from typing import Dict, List, Mapping, Optional, Sequence, Tuple, Union

from . import merkle
from .exceptions import VerificationError

__all__ = [
    "TreeHead",
    "SignedTreeHead",
    "InclusionProof",
    "ConsistencyProof",
    "LeafOperation",
    "LedgerPublicKey",
    "leaf_bytes",
    "signed_head_bytes",
    "check_extends",
]

_LEAF_TAG = b"statehouse.leaf.v1\x00"
# An operation's kind byte: a put, a delete, and a put with an expiry (a put without one keeps kind 1, so the leaves
# of older events never change).
_KIND_PUT, _KIND_DELETE, _KIND_PUT_EXPIRING = b"\x01", b"\x02", b"\x03"
_HEAD_TAG = b"statehouse.tree-head.v1\x00"
# RFC 8410 SubjectPublicKeyInfo of an Ed25519 key, before the 32 key bytes.
_SPKI_PREFIX = bytes.fromhex("302a300506032b6570032100")


@dataclass(frozen=True)
class TreeHead:
    """A namespace's Merkle tree over its first ``tree_size`` events."""

    namespace: str
    tree_size: int
    root_hash: bytes


@dataclass(frozen=True)
class SignedTreeHead:
    """A tree head with the daemon's Ed25519 signature over :func:`signed_head_bytes`."""

    head: TreeHead
    timestamp_micros: int
    key_id: str
    signature: bytes


@dataclass(frozen=True)
class InclusionProof:
    namespace: str
    commit_ts: int
    tree_size: int
    hashes: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class ConsistencyProof:
    namespace: str
    old_size: int
    new_size: int
    hashes: List[bytes] = field(default_factory=list)


@dataclass(frozen=True)
class LeafOperation:
    """One operation of an event as its leaf holds it: a put by its value's SHA-256 digest, a delete without one.

    A put gives its value's bytes (hashed here) or, when the retention policy removed the value, the digest kept for
    it (``value_digest``, 32 bytes); a delete gives neither. A put with an expiry (``expires_at_micros``, µs since
    the epoch) is encoded as kind 3, with the expiry after the digest.
    """

    agent_id: str
    key: str
    version: int
    value: Optional[bytes]  # the stored JSON bytes of a put; None for a delete and for a put whose value was removed
    expires_at_micros: Optional[int] = None  # a put's expiry; None: never
    value_digest: Optional[bytes] = None  # SHA-256 of a put's value the retention policy removed (instead of value)

    @property
    def is_delete(self) -> bool:
        return self.value is None and self.value_digest is None


def _u32(value: int) -> bytes:
    return struct.pack(">I", value)


def _u64(value: int) -> bytes:
    return struct.pack(">Q", value)


def _str(text: str) -> bytes:
    data = text.encode("utf-8")
    return _u32(len(data)) + data


def _opt(text: Optional[str]) -> bytes:
    return b"\x00" if text is None else b"\x01" + _str(text)


def leaf_bytes(
    *,
    namespace: str,
    commit_ts: int,
    txn_id: str,
    committed_at_micros: int,
    actor: Optional[str],
    reason: Optional[str],
    tags: Mapping[str, str],
    operations: Sequence[LeafOperation],
) -> bytes:
    """The leaf bytes of an event (docs/architecture.md, "Merkle tree"); its leaf hash is merkle.leaf_hash of them.

    Each operation is ``str agent · str key · u8 kind · u64 version`` followed, for a put (kind 1), by the SHA-256 of
    its value, and for a put with an expiry (kind 3) by that digest and the expiry as an i64; a delete (kind 2) has
    nothing more. A put whose value the retention policy removed gives the digest kept for it.

    Raises:
        ValueError: an operation that is none of these (a put with both a value and a digest, a digest that is not
            32 bytes, a delete with an expiry).
    """
    out = [_LEAF_TAG, _u64(commit_ts), _str(namespace), _str(txn_id), struct.pack(">q", committed_at_micros)]
    out += [_opt(actor), _opt(reason), _u32(len(tags))]
    for tag in sorted(tags, key=lambda name: name.encode("utf-8")):
        out += [_str(tag), _str(tags[tag])]
    out.append(_u32(len(operations)))
    for operation in operations:
        out += [_str(operation.agent_id), _str(operation.key)]
        out += _leaf_operation(operation)
    return b"".join(out)


def _leaf_operation(operation: LeafOperation) -> List[bytes]:
    """kind · u64 version, then for a put its value's digest, and (kind 3) its expiry as an i64."""
    if operation.is_delete:
        if operation.expires_at_micros is not None:
            raise ValueError(f"a delete has no expiry (agent {operation.agent_id!r} key {operation.key!r})")
        return [_KIND_DELETE, _u64(operation.version)]
    if operation.value_digest is not None:
        if operation.value is not None:
            raise ValueError(
                f"a put has either its value or the digest of a removed value, not both (agent "
                f"{operation.agent_id!r} key {operation.key!r})"
            )
        if len(operation.value_digest) != 32:
            raise ValueError(f"a value digest is 32 bytes (SHA-256); got {len(operation.value_digest)}")
        digest = bytes(operation.value_digest)
    else:
        digest = hashlib.sha256(operation.value or b"").digest()
    if operation.expires_at_micros is None:
        return [_KIND_PUT, _u64(operation.version), digest]
    return [_KIND_PUT_EXPIRING, _u64(operation.version), digest, struct.pack(">q", operation.expires_at_micros)]


def signed_head_bytes(head: SignedTreeHead) -> bytes:
    """The bytes a tree head's signature covers."""
    return b"".join(
        [
            _HEAD_TAG,
            _str(head.head.namespace),
            _u64(head.head.tree_size),
            head.head.root_hash,
            struct.pack(">q", head.timestamp_micros),
            _str(head.key_id),
        ]
    )


class LedgerPublicKey:
    """An Ed25519 public key that signs tree heads; made from PEM ("PUBLIC KEY") or the 32 raw bytes."""

    def __init__(self, raw: bytes) -> None:
        if len(raw) != 32:
            raise ValueError(f"an Ed25519 public key is 32 bytes; got {len(raw)}")
        self.raw = bytes(raw)
        self.key_id = hashlib.sha256(self.raw).digest()[:8].hex()

    @classmethod
    def from_pem(cls, pem: Union[str, bytes]) -> LedgerPublicKey:
        text = pem.decode("ascii") if isinstance(pem, bytes) else pem
        lines = [line.strip() for line in text.strip().splitlines()]
        try:
            begin, end = lines.index("-----BEGIN PUBLIC KEY-----"), lines.index("-----END PUBLIC KEY-----")
            body = "".join(lines[begin + 1 : end])
            der = base64.b64decode(body, validate=True)
        except (ValueError, TypeError):
            raise ValueError("not a PEM PUBLIC KEY block") from None
        if len(der) != len(_SPKI_PREFIX) + 32 or not der.startswith(_SPKI_PREFIX):
            raise ValueError("the PUBLIC KEY is not an Ed25519 key (expected RFC 8410 SubjectPublicKeyInfo)")
        return cls(der[len(_SPKI_PREFIX) :])

    @property
    def pem(self) -> str:
        body = base64.b64encode(_SPKI_PREFIX + self.raw).decode("ascii")
        return f"-----BEGIN PUBLIC KEY-----\n{body}\n-----END PUBLIC KEY-----\n"

    def verify_head(self, head: SignedTreeHead) -> bool:
        """Whether ``head`` names this key and carries a valid signature."""
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

        if head.key_id != self.key_id:
            return False
        try:
            Ed25519PublicKey.from_public_bytes(self.raw).verify(head.signature, signed_head_bytes(head))
        except InvalidSignature:
            return False
        return True

    def __eq__(self, other: object) -> bool:
        return isinstance(other, LedgerPublicKey) and other.raw == self.raw

    def __hash__(self) -> int:
        return hash(self.raw)

    def __repr__(self) -> str:
        return f"LedgerPublicKey(key_id={self.key_id!r})"


def check_extends(previous: TreeHead, head: TreeHead, proof: Optional[ConsistencyProof]) -> None:
    """Raises VerificationError unless ``head`` extends ``previous`` (a history rewrite is caught here)."""
    if previous.tree_size > head.tree_size:
        raise VerificationError(
            f"the tree head (size {head.tree_size}) is older than one this client verified before "
            f"(size {previous.tree_size})"
        )
    if previous.tree_size == head.tree_size:
        if previous.root_hash != head.root_hash:
            raise VerificationError(
                f"the tree of size {head.tree_size} has a different root than the one this client verified before: "
                "history was rewritten"
            )
        return
    if (
        proof is None
        or proof.old_size != previous.tree_size
        or proof.new_size != head.tree_size
        or not merkle.verify_consistency(
            previous.tree_size, head.tree_size, previous.root_hash, head.root_hash, proof.hashes
        )
    ):
        raise VerificationError(
            f"the tree of size {head.tree_size} does not extend the tree of size {previous.tree_size} this client "
            "verified before (the consistency proof fails): history was rewritten"
        )


class LedgerMemory:
    """What a client remembers for verified reads: the trusted key and the newest verified head per namespace."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self.trusted_key: Optional[LedgerPublicKey] = None
        self._heads: Dict[Tuple[str, str], TreeHead] = {}

    def trust(self, key: LedgerPublicKey, *, only_if_none: bool = False) -> LedgerPublicKey:
        with self._lock:
            if self.trusted_key is None or not only_if_none:
                self.trusted_key = key
            return self.trusted_key

    def head(self, key_id: str, namespace: str) -> Optional[TreeHead]:
        with self._lock:
            return self._heads.get((key_id, namespace))

    def remember(self, key_id: str, head: TreeHead) -> None:
        with self._lock:
            known = self._heads.get((key_id, head.namespace))
            if known is None or known.tree_size <= head.tree_size:
                self._heads[(key_id, head.namespace)] = head
