from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class OperationKind(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    OPERATION_KIND_UNSPECIFIED: _ClassVar[OperationKind]
    OPERATION_KIND_PUT: _ClassVar[OperationKind]
    OPERATION_KIND_DELETE: _ClassVar[OperationKind]
OPERATION_KIND_UNSPECIFIED: OperationKind
OPERATION_KIND_PUT: OperationKind
OPERATION_KIND_DELETE: OperationKind

class Metadata(_message.Message):
    __slots__ = ("actor", "reason", "tags")
    class TagsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    TAGS_FIELD_NUMBER: _ClassVar[int]
    actor: str
    reason: str
    tags: _containers.ScalarMap[str, str]
    def __init__(self, actor: _Optional[str] = ..., reason: _Optional[str] = ..., tags: _Optional[_Mapping[str, str]] = ...) -> None: ...

class KeyAddress(_message.Message):
    __slots__ = ("agent_id", "key")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class StateRecord(_message.Message):
    __slots__ = ("agent_id", "key", "value", "exists", "version", "commit_ts", "committed_at_micros", "deleted", "expires_at_micros", "value_removed")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    VALUE_REMOVED_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    value: bytes
    exists: bool
    version: int
    commit_ts: int
    committed_at_micros: int
    deleted: bool
    expires_at_micros: int
    value_removed: bool
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ..., exists: _Optional[bool] = ..., version: _Optional[int] = ..., commit_ts: _Optional[int] = ..., committed_at_micros: _Optional[int] = ..., deleted: _Optional[bool] = ..., expires_at_micros: _Optional[int] = ..., value_removed: _Optional[bool] = ...) -> None: ...

class KeyEntry(_message.Message):
    __slots__ = ("key", "version", "deleted")
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    key: str
    version: int
    deleted: bool
    def __init__(self, key: _Optional[str] = ..., version: _Optional[int] = ..., deleted: _Optional[bool] = ...) -> None: ...

class CommitResult(_message.Message):
    __slots__ = ("namespace", "txn_id", "commit_ts", "committed_at_micros", "versions", "hash")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    txn_id: str
    commit_ts: int
    committed_at_micros: int
    versions: _containers.RepeatedScalarFieldContainer[int]
    hash: bytes
    def __init__(self, namespace: _Optional[str] = ..., txn_id: _Optional[str] = ..., commit_ts: _Optional[int] = ..., committed_at_micros: _Optional[int] = ..., versions: _Optional[_Iterable[int]] = ..., hash: _Optional[bytes] = ...) -> None: ...

class LogHead(_message.Message):
    __slots__ = ("namespace", "commit_ts", "hash", "committed_at_micros")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    commit_ts: int
    hash: bytes
    committed_at_micros: int
    def __init__(self, namespace: _Optional[str] = ..., commit_ts: _Optional[int] = ..., hash: _Optional[bytes] = ..., committed_at_micros: _Optional[int] = ...) -> None: ...

class AppliedOperation(_message.Message):
    __slots__ = ("agent_id", "key", "kind", "value", "version", "expires_at_micros", "removed_value_digest")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    REMOVED_VALUE_DIGEST_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    kind: OperationKind
    value: bytes
    version: int
    expires_at_micros: int
    removed_value_digest: bytes
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ..., kind: _Optional[_Union[OperationKind, str]] = ..., value: _Optional[bytes] = ..., version: _Optional[int] = ..., expires_at_micros: _Optional[int] = ..., removed_value_digest: _Optional[bytes] = ...) -> None: ...

class Event(_message.Message):
    __slots__ = ("namespace", "commit_ts", "txn_id", "committed_at_micros", "operations", "metadata", "prev_hash", "hash")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    PREV_HASH_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    commit_ts: int
    txn_id: str
    committed_at_micros: int
    operations: _containers.RepeatedCompositeFieldContainer[AppliedOperation]
    metadata: Metadata
    prev_hash: bytes
    hash: bytes
    def __init__(self, namespace: _Optional[str] = ..., commit_ts: _Optional[int] = ..., txn_id: _Optional[str] = ..., committed_at_micros: _Optional[int] = ..., operations: _Optional[_Iterable[_Union[AppliedOperation, _Mapping]]] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ..., prev_hash: _Optional[bytes] = ..., hash: _Optional[bytes] = ...) -> None: ...

class EventBatch(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class HealthRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class HealthResponse(_message.Message):
    __slots__ = ("status",)
    STATUS_FIELD_NUMBER: _ClassVar[int]
    status: str
    def __init__(self, status: _Optional[str] = ...) -> None: ...

class VersionRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class VersionResponse(_message.Message):
    __slots__ = ("version", "git_sha")
    VERSION_FIELD_NUMBER: _ClassVar[int]
    GIT_SHA_FIELD_NUMBER: _ClassVar[int]
    version: str
    git_sha: str
    def __init__(self, version: _Optional[str] = ..., git_sha: _Optional[str] = ...) -> None: ...

class BeginTransactionRequest(_message.Message):
    __slots__ = ("namespace", "timeout_ms")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    timeout_ms: int
    def __init__(self, namespace: _Optional[str] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class BeginTransactionResponse(_message.Message):
    __slots__ = ("txn_id", "namespace", "timeout_ms")
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_MS_FIELD_NUMBER: _ClassVar[int]
    txn_id: str
    namespace: str
    timeout_ms: int
    def __init__(self, txn_id: _Optional[str] = ..., namespace: _Optional[str] = ..., timeout_ms: _Optional[int] = ...) -> None: ...

class WriteRequest(_message.Message):
    __slots__ = ("txn_id", "agent_id", "key", "value", "expires_at_micros")
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    txn_id: str
    agent_id: str
    key: str
    value: bytes
    expires_at_micros: int
    def __init__(self, txn_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ..., value: _Optional[bytes] = ..., expires_at_micros: _Optional[int] = ...) -> None: ...

class WriteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class DeleteRequest(_message.Message):
    __slots__ = ("txn_id", "agent_id", "key")
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    txn_id: str
    agent_id: str
    key: str
    def __init__(self, txn_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class DeleteResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class TransactionGetRequest(_message.Message):
    __slots__ = ("txn_id", "agent_id", "key")
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    txn_id: str
    agent_id: str
    key: str
    def __init__(self, txn_id: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ...) -> None: ...

class CommitRequest(_message.Message):
    __slots__ = ("txn_id", "metadata", "operations", "conditions", "begun_by_client", "namespace")
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    BEGUN_BY_CLIENT_FIELD_NUMBER: _ClassVar[int]
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    txn_id: str
    metadata: Metadata
    operations: _containers.RepeatedCompositeFieldContainer[Operation]
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    begun_by_client: bool
    namespace: str
    def __init__(self, txn_id: _Optional[str] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ..., operations: _Optional[_Iterable[_Union[Operation, _Mapping]]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., begun_by_client: _Optional[bool] = ..., namespace: _Optional[str] = ...) -> None: ...

class CommitResponse(_message.Message):
    __slots__ = ("result",)
    RESULT_FIELD_NUMBER: _ClassVar[int]
    result: CommitResult
    def __init__(self, result: _Optional[_Union[CommitResult, _Mapping]] = ...) -> None: ...

class AbortRequest(_message.Message):
    __slots__ = ("txn_id",)
    TXN_ID_FIELD_NUMBER: _ClassVar[int]
    txn_id: str
    def __init__(self, txn_id: _Optional[str] = ...) -> None: ...

class AbortResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class Operation(_message.Message):
    __slots__ = ("agent_id", "key", "kind", "value", "expires_at_micros")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    VALUE_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    kind: OperationKind
    value: bytes
    expires_at_micros: int
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ..., kind: _Optional[_Union[OperationKind, str]] = ..., value: _Optional[bytes] = ..., expires_at_micros: _Optional[int] = ...) -> None: ...

class Condition(_message.Message):
    __slots__ = ("agent_id", "key", "must_not_exist", "version")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    MUST_NOT_EXIST_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    key: str
    must_not_exist: bool
    version: int
    def __init__(self, agent_id: _Optional[str] = ..., key: _Optional[str] = ..., must_not_exist: _Optional[bool] = ..., version: _Optional[int] = ...) -> None: ...

class ApplyRequest(_message.Message):
    __slots__ = ("namespace", "operations", "conditions", "idempotency_key", "metadata", "events")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OPERATIONS_FIELD_NUMBER: _ClassVar[int]
    CONDITIONS_FIELD_NUMBER: _ClassVar[int]
    IDEMPOTENCY_KEY_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    operations: _containers.RepeatedCompositeFieldContainer[Operation]
    conditions: _containers.RepeatedCompositeFieldContainer[Condition]
    idempotency_key: str
    metadata: Metadata
    events: _containers.RepeatedCompositeFieldContainer[AgentEventDraft]
    def __init__(self, namespace: _Optional[str] = ..., operations: _Optional[_Iterable[_Union[Operation, _Mapping]]] = ..., conditions: _Optional[_Iterable[_Union[Condition, _Mapping]]] = ..., idempotency_key: _Optional[str] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ..., events: _Optional[_Iterable[_Union[AgentEventDraft, _Mapping]]] = ...) -> None: ...

class ReadPoint(_message.Message):
    __slots__ = ("commit_ts", "as_of_micros")
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_MICROS_FIELD_NUMBER: _ClassVar[int]
    commit_ts: int
    as_of_micros: int
    def __init__(self, commit_ts: _Optional[int] = ..., as_of_micros: _Optional[int] = ...) -> None: ...

class GetStateRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "key", "at")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    key: str
    at: ReadPoint
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ..., at: _Optional[_Union[ReadPoint, _Mapping]] = ...) -> None: ...

class GetStateResponse(_message.Message):
    __slots__ = ("record",)
    RECORD_FIELD_NUMBER: _ClassVar[int]
    record: StateRecord
    def __init__(self, record: _Optional[_Union[StateRecord, _Mapping]] = ...) -> None: ...

class GetStateAtVersionRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "key", "version")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    key: str
    version: int
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ..., version: _Optional[int] = ...) -> None: ...

class GetManyRequest(_message.Message):
    __slots__ = ("namespace", "keys", "at")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEYS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keys: _containers.RepeatedCompositeFieldContainer[KeyAddress]
    at: ReadPoint
    def __init__(self, namespace: _Optional[str] = ..., keys: _Optional[_Iterable[_Union[KeyAddress, _Mapping]]] = ..., at: _Optional[_Union[ReadPoint, _Mapping]] = ...) -> None: ...

class GetManyResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[StateRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[StateRecord, _Mapping]]] = ...) -> None: ...

class ListKeysRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "prefix", "include_deleted", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    prefix: str
    include_deleted: bool
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., prefix: _Optional[str] = ..., include_deleted: _Optional[bool] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListKeysResponse(_message.Message):
    __slots__ = ("keys", "next_cursor")
    KEYS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    keys: _containers.RepeatedCompositeFieldContainer[KeyEntry]
    next_cursor: str
    def __init__(self, keys: _Optional[_Iterable[_Union[KeyEntry, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ScanPrefixRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "prefix", "at", "limit", "cursor", "start_after")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    PREFIX_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    START_AFTER_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    prefix: str
    at: ReadPoint
    limit: int
    cursor: str
    start_after: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., prefix: _Optional[str] = ..., at: _Optional[_Union[ReadPoint, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., start_after: _Optional[str] = ...) -> None: ...

class ScanPrefixResponse(_message.Message):
    __slots__ = ("records", "next_cursor")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[StateRecord]
    next_cursor: str
    def __init__(self, records: _Optional[_Iterable[_Union[StateRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class HistoryRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "key", "limit", "cursor", "with_metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    WITH_METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    key: str
    limit: int
    cursor: str
    with_metadata: bool
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., with_metadata: _Optional[bool] = ...) -> None: ...

class HistoryResponse(_message.Message):
    __slots__ = ("versions", "next_cursor", "metadata")
    VERSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    versions: _containers.RepeatedCompositeFieldContainer[StateRecord]
    next_cursor: str
    metadata: _containers.RepeatedCompositeFieldContainer[Metadata]
    def __init__(self, versions: _Optional[_Iterable[_Union[StateRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ..., metadata: _Optional[_Iterable[_Union[Metadata, _Mapping]]] = ...) -> None: ...

class ListAgentsRequest(_message.Message):
    __slots__ = ("namespace", "limit", "cursor", "include_reserved")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_RESERVED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    limit: int
    cursor: str
    include_reserved: bool
    def __init__(self, namespace: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ..., include_reserved: _Optional[bool] = ...) -> None: ...

class ListAgentsResponse(_message.Message):
    __slots__ = ("agent_ids", "next_cursor")
    AGENT_IDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    agent_ids: _containers.RepeatedScalarFieldContainer[str]
    next_cursor: str
    def __init__(self, agent_ids: _Optional[_Iterable[str]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ListNamespacesRequest(_message.Message):
    __slots__ = ("limit", "cursor")
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    limit: int
    cursor: str
    def __init__(self, limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListNamespacesResponse(_message.Message):
    __slots__ = ("namespaces", "next_cursor")
    NAMESPACES_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespaces: _containers.RepeatedCompositeFieldContainer[LogHead]
    next_cursor: str
    def __init__(self, namespaces: _Optional[_Iterable[_Union[LogHead, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetHeadRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class LogFilter(_message.Message):
    __slots__ = ("namespace", "agent_id", "key_prefix", "from_commit_ts", "to_commit_ts", "since_micros", "until_micros")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    FROM_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TO_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    SINCE_MICROS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MICROS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    key_prefix: str
    from_commit_ts: int
    to_commit_ts: int
    since_micros: int
    until_micros: int
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., key_prefix: _Optional[str] = ..., from_commit_ts: _Optional[int] = ..., to_commit_ts: _Optional[int] = ..., since_micros: _Optional[int] = ..., until_micros: _Optional[int] = ...) -> None: ...

class ReadLogRequest(_message.Message):
    __slots__ = ("filter", "limit", "cursor")
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    filter: LogFilter
    limit: int
    cursor: str
    def __init__(self, filter: _Optional[_Union[LogFilter, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ReadLogResponse(_message.Message):
    __slots__ = ("events", "next_cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[Event]
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ReplayRequest(_message.Message):
    __slots__ = ("filter",)
    FILTER_FIELD_NUMBER: _ClassVar[int]
    filter: LogFilter
    def __init__(self, filter: _Optional[_Union[LogFilter, _Mapping]] = ...) -> None: ...

class WatchRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "from_commit_ts")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    from_commit_ts: int
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., from_commit_ts: _Optional[int] = ...) -> None: ...

class VerifyRequest(_message.Message):
    __slots__ = ("namespace", "from_commit_ts", "to_commit_ts")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FROM_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TO_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    from_commit_ts: int
    to_commit_ts: int
    def __init__(self, namespace: _Optional[str] = ..., from_commit_ts: _Optional[int] = ..., to_commit_ts: _Optional[int] = ...) -> None: ...

class VerifyResponse(_message.Message):
    __slots__ = ("ok", "first_bad_commit_ts", "reason", "events_checked", "head", "from_commit_ts", "to_commit_ts", "events_with_removed_values")
    OK_FIELD_NUMBER: _ClassVar[int]
    FIRST_BAD_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    EVENTS_CHECKED_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    FROM_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TO_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    EVENTS_WITH_REMOVED_VALUES_FIELD_NUMBER: _ClassVar[int]
    ok: bool
    first_bad_commit_ts: int
    reason: str
    events_checked: int
    head: LogHead
    from_commit_ts: int
    to_commit_ts: int
    events_with_removed_values: int
    def __init__(self, ok: _Optional[bool] = ..., first_bad_commit_ts: _Optional[int] = ..., reason: _Optional[str] = ..., events_checked: _Optional[int] = ..., head: _Optional[_Union[LogHead, _Mapping]] = ..., from_commit_ts: _Optional[int] = ..., to_commit_ts: _Optional[int] = ..., events_with_removed_values: _Optional[int] = ...) -> None: ...

class GetSigningKeyRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class SigningKey(_message.Message):
    __slots__ = ("algorithm", "public_key", "key_id", "public_key_pem")
    ALGORITHM_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    PUBLIC_KEY_PEM_FIELD_NUMBER: _ClassVar[int]
    algorithm: str
    public_key: bytes
    key_id: str
    public_key_pem: str
    def __init__(self, algorithm: _Optional[str] = ..., public_key: _Optional[bytes] = ..., key_id: _Optional[str] = ..., public_key_pem: _Optional[str] = ...) -> None: ...

class TreeHead(_message.Message):
    __slots__ = ("namespace", "tree_size", "root_hash")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    ROOT_HASH_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    tree_size: int
    root_hash: bytes
    def __init__(self, namespace: _Optional[str] = ..., tree_size: _Optional[int] = ..., root_hash: _Optional[bytes] = ...) -> None: ...

class SignedTreeHead(_message.Message):
    __slots__ = ("head", "timestamp_micros", "key_id", "signature")
    HEAD_FIELD_NUMBER: _ClassVar[int]
    TIMESTAMP_MICROS_FIELD_NUMBER: _ClassVar[int]
    KEY_ID_FIELD_NUMBER: _ClassVar[int]
    SIGNATURE_FIELD_NUMBER: _ClassVar[int]
    head: TreeHead
    timestamp_micros: int
    key_id: str
    signature: bytes
    def __init__(self, head: _Optional[_Union[TreeHead, _Mapping]] = ..., timestamp_micros: _Optional[int] = ..., key_id: _Optional[str] = ..., signature: _Optional[bytes] = ...) -> None: ...

class GetTreeHeadRequest(_message.Message):
    __slots__ = ("namespace", "tree_size")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    tree_size: int
    def __init__(self, namespace: _Optional[str] = ..., tree_size: _Optional[int] = ...) -> None: ...

class GetInclusionProofRequest(_message.Message):
    __slots__ = ("namespace", "commit_ts", "tree_size")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    commit_ts: int
    tree_size: int
    def __init__(self, namespace: _Optional[str] = ..., commit_ts: _Optional[int] = ..., tree_size: _Optional[int] = ...) -> None: ...

class InclusionProof(_message.Message):
    __slots__ = ("namespace", "commit_ts", "tree_size", "hashes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    commit_ts: int
    tree_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, namespace: _Optional[str] = ..., commit_ts: _Optional[int] = ..., tree_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GetConsistencyProofRequest(_message.Message):
    __slots__ = ("namespace", "old_size", "new_size")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    old_size: int
    new_size: int
    def __init__(self, namespace: _Optional[str] = ..., old_size: _Optional[int] = ..., new_size: _Optional[int] = ...) -> None: ...

class ConsistencyProof(_message.Message):
    __slots__ = ("namespace", "old_size", "new_size", "hashes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    OLD_SIZE_FIELD_NUMBER: _ClassVar[int]
    NEW_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    old_size: int
    new_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, namespace: _Optional[str] = ..., old_size: _Optional[int] = ..., new_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class GetVerifiedStateRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "key", "at", "known_tree_size")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    KNOWN_TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    key: str
    at: ReadPoint
    known_tree_size: int
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ..., at: _Optional[_Union[ReadPoint, _Mapping]] = ..., known_tree_size: _Optional[int] = ...) -> None: ...

class VerifiedState(_message.Message):
    __slots__ = ("record", "event", "proof", "head", "consistency")
    RECORD_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    PROOF_FIELD_NUMBER: _ClassVar[int]
    HEAD_FIELD_NUMBER: _ClassVar[int]
    CONSISTENCY_FIELD_NUMBER: _ClassVar[int]
    record: StateRecord
    event: Event
    proof: InclusionProof
    head: SignedTreeHead
    consistency: ConsistencyProof
    def __init__(self, record: _Optional[_Union[StateRecord, _Mapping]] = ..., event: _Optional[_Union[Event, _Mapping]] = ..., proof: _Optional[_Union[InclusionProof, _Mapping]] = ..., head: _Optional[_Union[SignedTreeHead, _Mapping]] = ..., consistency: _Optional[_Union[ConsistencyProof, _Mapping]] = ...) -> None: ...

class GetTreePrefixRequest(_message.Message):
    __slots__ = ("namespace", "tree_size")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    tree_size: int
    def __init__(self, namespace: _Optional[str] = ..., tree_size: _Optional[int] = ...) -> None: ...

class TreePrefix(_message.Message):
    __slots__ = ("namespace", "tree_size", "hashes")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TREE_SIZE_FIELD_NUMBER: _ClassVar[int]
    HASHES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    tree_size: int
    hashes: _containers.RepeatedScalarFieldContainer[bytes]
    def __init__(self, namespace: _Optional[str] = ..., tree_size: _Optional[int] = ..., hashes: _Optional[_Iterable[bytes]] = ...) -> None: ...

class SessionRequest(_message.Message):
    __slots__ = ("request_id", "apply", "get", "get_many", "begin", "write", "delete", "transaction_get", "commit", "abort", "list_keys", "scan_prefix", "history", "read_log", "get_at_version", "batch", "batch_responses")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    APPLY_FIELD_NUMBER: _ClassVar[int]
    GET_FIELD_NUMBER: _ClassVar[int]
    GET_MANY_FIELD_NUMBER: _ClassVar[int]
    BEGIN_FIELD_NUMBER: _ClassVar[int]
    WRITE_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_NUMBER: _ClassVar[int]
    TRANSACTION_GET_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    ABORT_FIELD_NUMBER: _ClassVar[int]
    LIST_KEYS_FIELD_NUMBER: _ClassVar[int]
    SCAN_PREFIX_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    READ_LOG_FIELD_NUMBER: _ClassVar[int]
    GET_AT_VERSION_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    BATCH_RESPONSES_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    apply: ApplyRequest
    get: GetStateRequest
    get_many: GetManyRequest
    begin: BeginTransactionRequest
    write: WriteRequest
    delete: DeleteRequest
    transaction_get: TransactionGetRequest
    commit: CommitRequest
    abort: AbortRequest
    list_keys: ListKeysRequest
    scan_prefix: ScanPrefixRequest
    history: HistoryRequest
    read_log: ReadLogRequest
    get_at_version: GetStateAtVersionRequest
    batch: _containers.RepeatedCompositeFieldContainer[SessionRequest]
    batch_responses: bool
    def __init__(self, request_id: _Optional[int] = ..., apply: _Optional[_Union[ApplyRequest, _Mapping]] = ..., get: _Optional[_Union[GetStateRequest, _Mapping]] = ..., get_many: _Optional[_Union[GetManyRequest, _Mapping]] = ..., begin: _Optional[_Union[BeginTransactionRequest, _Mapping]] = ..., write: _Optional[_Union[WriteRequest, _Mapping]] = ..., delete: _Optional[_Union[DeleteRequest, _Mapping]] = ..., transaction_get: _Optional[_Union[TransactionGetRequest, _Mapping]] = ..., commit: _Optional[_Union[CommitRequest, _Mapping]] = ..., abort: _Optional[_Union[AbortRequest, _Mapping]] = ..., list_keys: _Optional[_Union[ListKeysRequest, _Mapping]] = ..., scan_prefix: _Optional[_Union[ScanPrefixRequest, _Mapping]] = ..., history: _Optional[_Union[HistoryRequest, _Mapping]] = ..., read_log: _Optional[_Union[ReadLogRequest, _Mapping]] = ..., get_at_version: _Optional[_Union[GetStateAtVersionRequest, _Mapping]] = ..., batch: _Optional[_Iterable[_Union[SessionRequest, _Mapping]]] = ..., batch_responses: _Optional[bool] = ...) -> None: ...

class SessionError(_message.Message):
    __slots__ = ("code", "message", "reason", "details")
    class DetailsEntry(_message.Message):
        __slots__ = ("key", "value")
        KEY_FIELD_NUMBER: _ClassVar[int]
        VALUE_FIELD_NUMBER: _ClassVar[int]
        key: str
        value: str
        def __init__(self, key: _Optional[str] = ..., value: _Optional[str] = ...) -> None: ...
    CODE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    DETAILS_FIELD_NUMBER: _ClassVar[int]
    code: int
    message: str
    reason: str
    details: _containers.ScalarMap[str, str]
    def __init__(self, code: _Optional[int] = ..., message: _Optional[str] = ..., reason: _Optional[str] = ..., details: _Optional[_Mapping[str, str]] = ...) -> None: ...

class SessionResponse(_message.Message):
    __slots__ = ("request_id", "error", "commit", "get", "get_many", "begin", "write", "delete", "abort", "list_keys", "scan_prefix", "history", "read_log", "batch")
    REQUEST_ID_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    COMMIT_FIELD_NUMBER: _ClassVar[int]
    GET_FIELD_NUMBER: _ClassVar[int]
    GET_MANY_FIELD_NUMBER: _ClassVar[int]
    BEGIN_FIELD_NUMBER: _ClassVar[int]
    WRITE_FIELD_NUMBER: _ClassVar[int]
    DELETE_FIELD_NUMBER: _ClassVar[int]
    ABORT_FIELD_NUMBER: _ClassVar[int]
    LIST_KEYS_FIELD_NUMBER: _ClassVar[int]
    SCAN_PREFIX_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    READ_LOG_FIELD_NUMBER: _ClassVar[int]
    BATCH_FIELD_NUMBER: _ClassVar[int]
    request_id: int
    error: SessionError
    commit: CommitResponse
    get: GetStateResponse
    get_many: GetManyResponse
    begin: BeginTransactionResponse
    write: WriteResponse
    delete: DeleteResponse
    abort: AbortResponse
    list_keys: ListKeysResponse
    scan_prefix: ScanPrefixResponse
    history: HistoryResponse
    read_log: ReadLogResponse
    batch: _containers.RepeatedCompositeFieldContainer[SessionResponse]
    def __init__(self, request_id: _Optional[int] = ..., error: _Optional[_Union[SessionError, _Mapping]] = ..., commit: _Optional[_Union[CommitResponse, _Mapping]] = ..., get: _Optional[_Union[GetStateResponse, _Mapping]] = ..., get_many: _Optional[_Union[GetManyResponse, _Mapping]] = ..., begin: _Optional[_Union[BeginTransactionResponse, _Mapping]] = ..., write: _Optional[_Union[WriteResponse, _Mapping]] = ..., delete: _Optional[_Union[DeleteResponse, _Mapping]] = ..., abort: _Optional[_Union[AbortResponse, _Mapping]] = ..., list_keys: _Optional[_Union[ListKeysResponse, _Mapping]] = ..., scan_prefix: _Optional[_Union[ScanPrefixResponse, _Mapping]] = ..., history: _Optional[_Union[HistoryResponse, _Mapping]] = ..., read_log: _Optional[_Union[ReadLogResponse, _Mapping]] = ..., batch: _Optional[_Iterable[_Union[SessionResponse, _Mapping]]] = ...) -> None: ...

class AgentRecord(_message.Message):
    __slots__ = ("agent_id", "display_name", "status", "metadata", "created_at_micros", "updated_at_micros", "key_count", "version_count", "deleted")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    KEY_COUNT_FIELD_NUMBER: _ClassVar[int]
    VERSION_COUNT_FIELD_NUMBER: _ClassVar[int]
    DELETED_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    display_name: str
    status: str
    metadata: bytes
    created_at_micros: int
    updated_at_micros: int
    key_count: int
    version_count: int
    deleted: bool
    def __init__(self, agent_id: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[str] = ..., metadata: _Optional[bytes] = ..., created_at_micros: _Optional[int] = ..., updated_at_micros: _Optional[int] = ..., key_count: _Optional[int] = ..., version_count: _Optional[int] = ..., deleted: _Optional[bool] = ...) -> None: ...

class GetAgentRequest(_message.Message):
    __slots__ = ("namespace", "agent_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ...) -> None: ...

class ListAgentRecordsRequest(_message.Message):
    __slots__ = ("namespace", "status", "include_deleted", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    INCLUDE_DELETED_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    status: str
    include_deleted: bool
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., status: _Optional[str] = ..., include_deleted: _Optional[bool] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListAgentRecordsResponse(_message.Message):
    __slots__ = ("agents", "next_cursor")
    AGENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    agents: _containers.RepeatedCompositeFieldContainer[AgentRecord]
    next_cursor: str
    def __init__(self, agents: _Optional[_Iterable[_Union[AgentRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class UpdateAgentRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "display_name", "status", "metadata", "commit_metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DISPLAY_NAME_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    COMMIT_METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    display_name: str
    status: str
    metadata: bytes
    commit_metadata: Metadata
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., display_name: _Optional[str] = ..., status: _Optional[str] = ..., metadata: _Optional[bytes] = ..., commit_metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class DeleteAgentRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    metadata: Metadata
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class Snapshot(_message.Message):
    __slots__ = ("namespace", "name", "agent_id", "commit_ts", "description", "metadata", "created_at_micros", "expires_at_micros")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    agent_id: str
    commit_ts: int
    description: str
    metadata: bytes
    created_at_micros: int
    expires_at_micros: int
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., agent_id: _Optional[str] = ..., commit_ts: _Optional[int] = ..., description: _Optional[str] = ..., metadata: _Optional[bytes] = ..., created_at_micros: _Optional[int] = ..., expires_at_micros: _Optional[int] = ...) -> None: ...

class StatePoint(_message.Message):
    __slots__ = ("commit_ts", "as_of_micros", "snapshot")
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    AS_OF_MICROS_FIELD_NUMBER: _ClassVar[int]
    SNAPSHOT_FIELD_NUMBER: _ClassVar[int]
    commit_ts: int
    as_of_micros: int
    snapshot: str
    def __init__(self, commit_ts: _Optional[int] = ..., as_of_micros: _Optional[int] = ..., snapshot: _Optional[str] = ...) -> None: ...

class CreateSnapshotRequest(_message.Message):
    __slots__ = ("namespace", "name", "agent_id", "description", "metadata", "expires_at_micros", "at")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    agent_id: str
    description: str
    metadata: bytes
    expires_at_micros: int
    at: StatePoint
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., agent_id: _Optional[str] = ..., description: _Optional[str] = ..., metadata: _Optional[bytes] = ..., expires_at_micros: _Optional[int] = ..., at: _Optional[_Union[StatePoint, _Mapping]] = ...) -> None: ...

class GetSnapshotRequest(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class ListSnapshotsRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListSnapshotsResponse(_message.Message):
    __slots__ = ("snapshots", "next_cursor")
    SNAPSHOTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    snapshots: _containers.RepeatedCompositeFieldContainer[Snapshot]
    next_cursor: str
    def __init__(self, snapshots: _Optional[_Iterable[_Union[Snapshot, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class DeleteSnapshotRequest(_message.Message):
    __slots__ = ("namespace", "name")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ...) -> None: ...

class RestoreSnapshotRequest(_message.Message):
    __slots__ = ("namespace", "name", "force", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    FORCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    name: str
    force: bool
    metadata: Metadata
    def __init__(self, namespace: _Optional[str] = ..., name: _Optional[str] = ..., force: _Optional[bool] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class ForkRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "at", "target_namespace", "target_agent_id", "overwrite", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    TARGET_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TARGET_AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    OVERWRITE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    at: StatePoint
    target_namespace: str
    target_agent_id: str
    overwrite: bool
    metadata: Metadata
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., at: _Optional[_Union[StatePoint, _Mapping]] = ..., target_namespace: _Optional[str] = ..., target_agent_id: _Optional[str] = ..., overwrite: _Optional[bool] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class StateCopyResponse(_message.Message):
    __slots__ = ("result", "puts", "deletes", "source_commit_ts")
    RESULT_FIELD_NUMBER: _ClassVar[int]
    PUTS_FIELD_NUMBER: _ClassVar[int]
    DELETES_FIELD_NUMBER: _ClassVar[int]
    SOURCE_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    result: CommitResult
    puts: int
    deletes: int
    source_commit_ts: int
    def __init__(self, result: _Optional[_Union[CommitResult, _Mapping]] = ..., puts: _Optional[int] = ..., deletes: _Optional[int] = ..., source_commit_ts: _Optional[int] = ...) -> None: ...

class DiffRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "to")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    to: StatePoint
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., to: _Optional[_Union[StatePoint, _Mapping]] = ..., **kwargs) -> None: ...

class KeyDifference(_message.Message):
    __slots__ = ("key", "change", "before", "after", "patch")
    KEY_FIELD_NUMBER: _ClassVar[int]
    CHANGE_FIELD_NUMBER: _ClassVar[int]
    BEFORE_FIELD_NUMBER: _ClassVar[int]
    AFTER_FIELD_NUMBER: _ClassVar[int]
    PATCH_FIELD_NUMBER: _ClassVar[int]
    key: str
    change: str
    before: StateRecord
    after: StateRecord
    patch: bytes
    def __init__(self, key: _Optional[str] = ..., change: _Optional[str] = ..., before: _Optional[_Union[StateRecord, _Mapping]] = ..., after: _Optional[_Union[StateRecord, _Mapping]] = ..., patch: _Optional[bytes] = ...) -> None: ...

class DiffResponse(_message.Message):
    __slots__ = ("namespace", "agent_id", "from_commit_ts", "to_commit_ts", "differences")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TO_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    DIFFERENCES_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    from_commit_ts: int
    to_commit_ts: int
    differences: _containers.RepeatedCompositeFieldContainer[KeyDifference]
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., from_commit_ts: _Optional[int] = ..., to_commit_ts: _Optional[int] = ..., differences: _Optional[_Iterable[_Union[KeyDifference, _Mapping]]] = ...) -> None: ...

class AgentEventDraft(_message.Message):
    __slots__ = ("id", "agent_id", "type", "session_id", "actor", "content", "metadata", "occurred_at_micros")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_id: str
    type: str
    session_id: str
    actor: str
    content: bytes
    metadata: bytes
    occurred_at_micros: int
    def __init__(self, id: _Optional[str] = ..., agent_id: _Optional[str] = ..., type: _Optional[str] = ..., session_id: _Optional[str] = ..., actor: _Optional[str] = ..., content: _Optional[bytes] = ..., metadata: _Optional[bytes] = ..., occurred_at_micros: _Optional[int] = ...) -> None: ...

class AgentEvent(_message.Message):
    __slots__ = ("id", "agent_id", "type", "session_id", "actor", "content", "metadata", "occurred_at_micros", "commit_ts", "committed_at_micros")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    CONTENT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    OCCURRED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_id: str
    type: str
    session_id: str
    actor: str
    content: bytes
    metadata: bytes
    occurred_at_micros: int
    commit_ts: int
    committed_at_micros: int
    def __init__(self, id: _Optional[str] = ..., agent_id: _Optional[str] = ..., type: _Optional[str] = ..., session_id: _Optional[str] = ..., actor: _Optional[str] = ..., content: _Optional[bytes] = ..., metadata: _Optional[bytes] = ..., occurred_at_micros: _Optional[int] = ..., commit_ts: _Optional[int] = ..., committed_at_micros: _Optional[int] = ...) -> None: ...

class RecordEventsRequest(_message.Message):
    __slots__ = ("namespace", "events", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    events: _containers.RepeatedCompositeFieldContainer[AgentEventDraft]
    metadata: Metadata
    def __init__(self, namespace: _Optional[str] = ..., events: _Optional[_Iterable[_Union[AgentEventDraft, _Mapping]]] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class RecordEventsResponse(_message.Message):
    __slots__ = ("events",)
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AgentEvent]
    def __init__(self, events: _Optional[_Iterable[_Union[AgentEvent, _Mapping]]] = ...) -> None: ...

class AgentEventFilter(_message.Message):
    __slots__ = ("agent_id", "session_id", "type", "actor", "since_micros", "until_micros")
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SINCE_MICROS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MICROS_FIELD_NUMBER: _ClassVar[int]
    agent_id: str
    session_id: str
    type: str
    actor: str
    since_micros: int
    until_micros: int
    def __init__(self, agent_id: _Optional[str] = ..., session_id: _Optional[str] = ..., type: _Optional[str] = ..., actor: _Optional[str] = ..., since_micros: _Optional[int] = ..., until_micros: _Optional[int] = ...) -> None: ...

class GetEventsRequest(_message.Message):
    __slots__ = ("namespace", "filter", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    FILTER_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    filter: AgentEventFilter
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., filter: _Optional[_Union[AgentEventFilter, _Mapping]] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class GetEventsResponse(_message.Message):
    __slots__ = ("events", "next_cursor")
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    events: _containers.RepeatedCompositeFieldContainer[AgentEvent]
    next_cursor: str
    def __init__(self, events: _Optional[_Iterable[_Union[AgentEvent, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class GetEventRequest(_message.Message):
    __slots__ = ("namespace", "id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class AgentSession(_message.Message):
    __slots__ = ("id", "agent_id", "status", "metadata", "started_at_micros", "ended_at_micros")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_id: str
    status: str
    metadata: bytes
    started_at_micros: int
    ended_at_micros: int
    def __init__(self, id: _Optional[str] = ..., agent_id: _Optional[str] = ..., status: _Optional[str] = ..., metadata: _Optional[bytes] = ..., started_at_micros: _Optional[int] = ..., ended_at_micros: _Optional[int] = ...) -> None: ...

class StartSessionRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "id", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    id: str
    metadata: bytes
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., id: _Optional[str] = ..., metadata: _Optional[bytes] = ...) -> None: ...

class EndSessionRequest(_message.Message):
    __slots__ = ("namespace", "id", "status")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    status: str
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class GetSessionRequest(_message.Message):
    __slots__ = ("namespace", "id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListSessionsRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "status", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    status: str
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., status: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListSessionsResponse(_message.Message):
    __slots__ = ("sessions", "next_cursor")
    SESSIONS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    sessions: _containers.RepeatedCompositeFieldContainer[AgentSession]
    next_cursor: str
    def __init__(self, sessions: _Optional[_Iterable[_Union[AgentSession, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class AgentTask(_message.Message):
    __slots__ = ("id", "title", "description", "status", "assigned_to", "metadata", "created_at_micros", "updated_at_micros")
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_TO_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    UPDATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    id: str
    title: str
    description: str
    status: str
    assigned_to: str
    metadata: bytes
    created_at_micros: int
    updated_at_micros: int
    def __init__(self, id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[str] = ..., assigned_to: _Optional[str] = ..., metadata: _Optional[bytes] = ..., created_at_micros: _Optional[int] = ..., updated_at_micros: _Optional[int] = ...) -> None: ...

class CreateTaskRequest(_message.Message):
    __slots__ = ("namespace", "title", "description", "status", "assigned_to", "metadata", "id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_TO_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    title: str
    description: str
    status: str
    assigned_to: str
    metadata: bytes
    id: str
    def __init__(self, namespace: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[str] = ..., assigned_to: _Optional[str] = ..., metadata: _Optional[bytes] = ..., id: _Optional[str] = ...) -> None: ...

class UpdateTaskRequest(_message.Message):
    __slots__ = ("namespace", "id", "title", "description", "status", "assigned_to", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    TITLE_FIELD_NUMBER: _ClassVar[int]
    DESCRIPTION_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_TO_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    title: str
    description: str
    status: str
    assigned_to: str
    metadata: bytes
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ..., title: _Optional[str] = ..., description: _Optional[str] = ..., status: _Optional[str] = ..., assigned_to: _Optional[str] = ..., metadata: _Optional[bytes] = ...) -> None: ...

class GetTaskRequest(_message.Message):
    __slots__ = ("namespace", "id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListTasksRequest(_message.Message):
    __slots__ = ("namespace", "status", "assigned_to", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    ASSIGNED_TO_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    status: str
    assigned_to: str
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., status: _Optional[str] = ..., assigned_to: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListTasksResponse(_message.Message):
    __slots__ = ("tasks", "next_cursor")
    TASKS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    tasks: _containers.RepeatedCompositeFieldContainer[AgentTask]
    next_cursor: str
    def __init__(self, tasks: _Optional[_Iterable[_Union[AgentTask, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class SearchRequest(_message.Message):
    __slots__ = ("namespace", "query", "kinds", "agent_id", "key_prefix", "type", "session_id", "actor", "since_micros", "until_micros", "history", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    QUERY_FIELD_NUMBER: _ClassVar[int]
    KINDS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_PREFIX_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    SINCE_MICROS_FIELD_NUMBER: _ClassVar[int]
    UNTIL_MICROS_FIELD_NUMBER: _ClassVar[int]
    HISTORY_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    query: str
    kinds: _containers.RepeatedScalarFieldContainer[str]
    agent_id: str
    key_prefix: str
    type: str
    session_id: str
    actor: str
    since_micros: int
    until_micros: int
    history: bool
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., query: _Optional[str] = ..., kinds: _Optional[_Iterable[str]] = ..., agent_id: _Optional[str] = ..., key_prefix: _Optional[str] = ..., type: _Optional[str] = ..., session_id: _Optional[str] = ..., actor: _Optional[str] = ..., since_micros: _Optional[int] = ..., until_micros: _Optional[int] = ..., history: _Optional[bool] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class SearchHit(_message.Message):
    __slots__ = ("kind", "score", "snippet", "commit_ts", "committed_at_micros", "agent_id", "key", "version", "event_id", "type", "session_id", "actor")
    KIND_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    SNIPPET_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    COMMITTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KEY_FIELD_NUMBER: _ClassVar[int]
    VERSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    SESSION_ID_FIELD_NUMBER: _ClassVar[int]
    ACTOR_FIELD_NUMBER: _ClassVar[int]
    kind: str
    score: float
    snippet: str
    commit_ts: int
    committed_at_micros: int
    agent_id: str
    key: str
    version: int
    event_id: str
    type: str
    session_id: str
    actor: str
    def __init__(self, kind: _Optional[str] = ..., score: _Optional[float] = ..., snippet: _Optional[str] = ..., commit_ts: _Optional[int] = ..., committed_at_micros: _Optional[int] = ..., agent_id: _Optional[str] = ..., key: _Optional[str] = ..., version: _Optional[int] = ..., event_id: _Optional[str] = ..., type: _Optional[str] = ..., session_id: _Optional[str] = ..., actor: _Optional[str] = ...) -> None: ...

class SearchResponse(_message.Message):
    __slots__ = ("hits", "next_cursor")
    HITS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    hits: _containers.RepeatedCompositeFieldContainer[SearchHit]
    next_cursor: str
    def __init__(self, hits: _Optional[_Iterable[_Union[SearchHit, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class RetentionPolicy(_message.Message):
    __slots__ = ("namespace", "keep_versions", "keep_for_seconds", "source", "commit_ts")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEEP_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    KEEP_FOR_SECONDS_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keep_versions: int
    keep_for_seconds: int
    source: str
    commit_ts: int
    def __init__(self, namespace: _Optional[str] = ..., keep_versions: _Optional[int] = ..., keep_for_seconds: _Optional[int] = ..., source: _Optional[str] = ..., commit_ts: _Optional[int] = ...) -> None: ...

class SetRetentionRequest(_message.Message):
    __slots__ = ("namespace", "keep_versions", "keep_for_seconds", "use_default", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KEEP_VERSIONS_FIELD_NUMBER: _ClassVar[int]
    KEEP_FOR_SECONDS_FIELD_NUMBER: _ClassVar[int]
    USE_DEFAULT_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    keep_versions: int
    keep_for_seconds: int
    use_default: bool
    metadata: Metadata
    def __init__(self, namespace: _Optional[str] = ..., keep_versions: _Optional[int] = ..., keep_for_seconds: _Optional[int] = ..., use_default: _Optional[bool] = ..., metadata: _Optional[_Union[Metadata, _Mapping]] = ...) -> None: ...

class GetRetentionRequest(_message.Message):
    __slots__ = ("namespace",)
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    def __init__(self, namespace: _Optional[str] = ...) -> None: ...

class CompactRequest(_message.Message):
    __slots__ = ("namespace", "vacuum")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    VACUUM_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    vacuum: bool
    def __init__(self, namespace: _Optional[str] = ..., vacuum: _Optional[bool] = ...) -> None: ...

class CompactResponse(_message.Message):
    __slots__ = ("namespace", "versions_examined", "values_removed", "value_bytes_removed", "file_bytes_before", "file_bytes_after", "policy")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    VERSIONS_EXAMINED_FIELD_NUMBER: _ClassVar[int]
    VALUES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    VALUE_BYTES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    FILE_BYTES_BEFORE_FIELD_NUMBER: _ClassVar[int]
    FILE_BYTES_AFTER_FIELD_NUMBER: _ClassVar[int]
    POLICY_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    versions_examined: int
    values_removed: int
    value_bytes_removed: int
    file_bytes_before: int
    file_bytes_after: int
    policy: RetentionPolicy
    def __init__(self, namespace: _Optional[str] = ..., versions_examined: _Optional[int] = ..., values_removed: _Optional[int] = ..., value_bytes_removed: _Optional[int] = ..., file_bytes_before: _Optional[int] = ..., file_bytes_after: _Optional[int] = ..., policy: _Optional[_Union[RetentionPolicy, _Mapping]] = ...) -> None: ...

class BackupRequest(_message.Message):
    __slots__ = ("destination",)
    DESTINATION_FIELD_NUMBER: _ClassVar[int]
    destination: str
    def __init__(self, destination: _Optional[str] = ...) -> None: ...

class BackupResponse(_message.Message):
    __slots__ = ("path", "bytes", "heads")
    PATH_FIELD_NUMBER: _ClassVar[int]
    BYTES_FIELD_NUMBER: _ClassVar[int]
    HEADS_FIELD_NUMBER: _ClassVar[int]
    path: str
    bytes: int
    heads: _containers.RepeatedCompositeFieldContainer[LogHead]
    def __init__(self, path: _Optional[str] = ..., bytes: _Optional[int] = ..., heads: _Optional[_Iterable[_Union[LogHead, _Mapping]]] = ...) -> None: ...

class AccessGrant(_message.Message):
    __slots__ = ("namespace_pattern", "role")
    NAMESPACE_PATTERN_FIELD_NUMBER: _ClassVar[int]
    ROLE_FIELD_NUMBER: _ClassVar[int]
    namespace_pattern: str
    role: str
    def __init__(self, namespace_pattern: _Optional[str] = ..., role: _Optional[str] = ...) -> None: ...

class AccessToken(_message.Message):
    __slots__ = ("id", "name", "grants", "created_at_micros", "expires_at_micros", "revoked_at_micros", "created_by", "certificate_subject")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    REVOKED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    CREATED_BY_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    grants: _containers.RepeatedCompositeFieldContainer[AccessGrant]
    created_at_micros: int
    expires_at_micros: int
    revoked_at_micros: int
    created_by: str
    certificate_subject: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., grants: _Optional[_Iterable[_Union[AccessGrant, _Mapping]]] = ..., created_at_micros: _Optional[int] = ..., expires_at_micros: _Optional[int] = ..., revoked_at_micros: _Optional[int] = ..., created_by: _Optional[str] = ..., certificate_subject: _Optional[str] = ...) -> None: ...

class CreateTokenRequest(_message.Message):
    __slots__ = ("name", "grants", "expires_at_micros", "certificate_subject")
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    CERTIFICATE_SUBJECT_FIELD_NUMBER: _ClassVar[int]
    name: str
    grants: _containers.RepeatedCompositeFieldContainer[AccessGrant]
    expires_at_micros: int
    certificate_subject: str
    def __init__(self, name: _Optional[str] = ..., grants: _Optional[_Iterable[_Union[AccessGrant, _Mapping]]] = ..., expires_at_micros: _Optional[int] = ..., certificate_subject: _Optional[str] = ...) -> None: ...

class CreateTokenResponse(_message.Message):
    __slots__ = ("token", "secret")
    TOKEN_FIELD_NUMBER: _ClassVar[int]
    SECRET_FIELD_NUMBER: _ClassVar[int]
    token: AccessToken
    secret: str
    def __init__(self, token: _Optional[_Union[AccessToken, _Mapping]] = ..., secret: _Optional[str] = ...) -> None: ...

class ListTokensRequest(_message.Message):
    __slots__ = ("include_revoked",)
    INCLUDE_REVOKED_FIELD_NUMBER: _ClassVar[int]
    include_revoked: bool
    def __init__(self, include_revoked: _Optional[bool] = ...) -> None: ...

class ListTokensResponse(_message.Message):
    __slots__ = ("tokens",)
    TOKENS_FIELD_NUMBER: _ClassVar[int]
    tokens: _containers.RepeatedCompositeFieldContainer[AccessToken]
    def __init__(self, tokens: _Optional[_Iterable[_Union[AccessToken, _Mapping]]] = ...) -> None: ...

class RevokeTokenRequest(_message.Message):
    __slots__ = ("id",)
    ID_FIELD_NUMBER: _ClassVar[int]
    id: str
    def __init__(self, id: _Optional[str] = ...) -> None: ...

class WhoAmIRequest(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...

class WhoAmIResponse(_message.Message):
    __slots__ = ("principal_id", "name", "grants", "auth_required")
    PRINCIPAL_ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    GRANTS_FIELD_NUMBER: _ClassVar[int]
    AUTH_REQUIRED_FIELD_NUMBER: _ClassVar[int]
    principal_id: str
    name: str
    grants: _containers.RepeatedCompositeFieldContainer[AccessGrant]
    auth_required: bool
    def __init__(self, principal_id: _Optional[str] = ..., name: _Optional[str] = ..., grants: _Optional[_Iterable[_Union[AccessGrant, _Mapping]]] = ..., auth_required: _Optional[bool] = ...) -> None: ...

class ProvenanceDraft(_message.Message):
    __slots__ = ("kind", "id", "payload", "captured_at_micros")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    payload: bytes
    captured_at_micros: int
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., payload: _Optional[bytes] = ..., captured_at_micros: _Optional[int] = ...) -> None: ...

class ProvenanceRecord(_message.Message):
    __slots__ = ("kind", "id", "agent_id", "captured_at_micros", "payload", "run_id", "commit_ts")
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    CAPTURED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    PAYLOAD_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    kind: str
    id: str
    agent_id: str
    captured_at_micros: int
    payload: bytes
    run_id: str
    commit_ts: int
    def __init__(self, kind: _Optional[str] = ..., id: _Optional[str] = ..., agent_id: _Optional[str] = ..., captured_at_micros: _Optional[int] = ..., payload: _Optional[bytes] = ..., run_id: _Optional[str] = ..., commit_ts: _Optional[int] = ...) -> None: ...

class RecordProvenanceRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "records", "run_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    records: _containers.RepeatedCompositeFieldContainer[ProvenanceDraft]
    run_id: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., records: _Optional[_Iterable[_Union[ProvenanceDraft, _Mapping]]] = ..., run_id: _Optional[str] = ...) -> None: ...

class RecordProvenanceResponse(_message.Message):
    __slots__ = ("records",)
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[ProvenanceRecord]
    def __init__(self, records: _Optional[_Iterable[_Union[ProvenanceRecord, _Mapping]]] = ...) -> None: ...

class GetProvenanceRequest(_message.Message):
    __slots__ = ("namespace", "kind", "id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    kind: str
    id: str
    def __init__(self, namespace: _Optional[str] = ..., kind: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class ListProvenanceRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "kind", "run_id", "limit", "cursor")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    LIMIT_FIELD_NUMBER: _ClassVar[int]
    CURSOR_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    kind: str
    run_id: str
    limit: int
    cursor: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., kind: _Optional[str] = ..., run_id: _Optional[str] = ..., limit: _Optional[int] = ..., cursor: _Optional[str] = ...) -> None: ...

class ListProvenanceResponse(_message.Message):
    __slots__ = ("records", "next_cursor")
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    NEXT_CURSOR_FIELD_NUMBER: _ClassVar[int]
    records: _containers.RepeatedCompositeFieldContainer[ProvenanceRecord]
    next_cursor: str
    def __init__(self, records: _Optional[_Iterable[_Union[ProvenanceRecord, _Mapping]]] = ..., next_cursor: _Optional[str] = ...) -> None: ...

class ProvenanceAtRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "at")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    AT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    at: StatePoint
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., at: _Optional[_Union[StatePoint, _Mapping]] = ...) -> None: ...

class ProvenanceAtResponse(_message.Message):
    __slots__ = ("commit_ts", "run", "records")
    COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    RUN_FIELD_NUMBER: _ClassVar[int]
    RECORDS_FIELD_NUMBER: _ClassVar[int]
    commit_ts: int
    run: AgentRun
    records: _containers.RepeatedCompositeFieldContainer[ProvenanceRecord]
    def __init__(self, commit_ts: _Optional[int] = ..., run: _Optional[_Union[AgentRun, _Mapping]] = ..., records: _Optional[_Iterable[_Union[ProvenanceRecord, _Mapping]]] = ...) -> None: ...

class AgentRun(_message.Message):
    __slots__ = ("id", "agent_id", "status", "started_at_micros", "ended_at_micros", "start_commit_ts", "end_commit_ts", "provenance", "metadata")
    ID_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    STARTED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    ENDED_AT_MICROS_FIELD_NUMBER: _ClassVar[int]
    START_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    END_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    id: str
    agent_id: str
    status: str
    started_at_micros: int
    ended_at_micros: int
    start_commit_ts: int
    end_commit_ts: int
    provenance: _containers.RepeatedScalarFieldContainer[str]
    metadata: bytes
    def __init__(self, id: _Optional[str] = ..., agent_id: _Optional[str] = ..., status: _Optional[str] = ..., started_at_micros: _Optional[int] = ..., ended_at_micros: _Optional[int] = ..., start_commit_ts: _Optional[int] = ..., end_commit_ts: _Optional[int] = ..., provenance: _Optional[_Iterable[str]] = ..., metadata: _Optional[bytes] = ...) -> None: ...

class StartRunRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "id", "provenance", "metadata")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    METADATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    id: str
    provenance: _containers.RepeatedCompositeFieldContainer[ProvenanceDraft]
    metadata: bytes
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., id: _Optional[str] = ..., provenance: _Optional[_Iterable[_Union[ProvenanceDraft, _Mapping]]] = ..., metadata: _Optional[bytes] = ...) -> None: ...

class EndRunRequest(_message.Message):
    __slots__ = ("namespace", "id", "status")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    status: str
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ..., status: _Optional[str] = ...) -> None: ...

class GetRunRequest(_message.Message):
    __slots__ = ("namespace", "id", "commit_limit")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    COMMIT_LIMIT_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    id: str
    commit_limit: int
    def __init__(self, namespace: _Optional[str] = ..., id: _Optional[str] = ..., commit_limit: _Optional[int] = ...) -> None: ...

class GetRunResponse(_message.Message):
    __slots__ = ("run", "provenance", "commits")
    RUN_FIELD_NUMBER: _ClassVar[int]
    PROVENANCE_FIELD_NUMBER: _ClassVar[int]
    COMMITS_FIELD_NUMBER: _ClassVar[int]
    run: AgentRun
    provenance: _containers.RepeatedCompositeFieldContainer[ProvenanceRecord]
    commits: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, run: _Optional[_Union[AgentRun, _Mapping]] = ..., provenance: _Optional[_Iterable[_Union[ProvenanceRecord, _Mapping]]] = ..., commits: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class AdviseRequest(_message.Message):
    __slots__ = ("namespace", "agent_id", "to", "from_run", "to_run")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    AGENT_ID_FIELD_NUMBER: _ClassVar[int]
    FROM_FIELD_NUMBER: _ClassVar[int]
    TO_FIELD_NUMBER: _ClassVar[int]
    FROM_RUN_FIELD_NUMBER: _ClassVar[int]
    TO_RUN_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    agent_id: str
    to: StatePoint
    from_run: str
    to_run: str
    def __init__(self, namespace: _Optional[str] = ..., agent_id: _Optional[str] = ..., to: _Optional[_Union[StatePoint, _Mapping]] = ..., from_run: _Optional[str] = ..., to_run: _Optional[str] = ..., **kwargs) -> None: ...

class AdvisoryFinding(_message.Message):
    __slots__ = ("rule", "points", "message", "recommendation")
    RULE_FIELD_NUMBER: _ClassVar[int]
    POINTS_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    RECOMMENDATION_FIELD_NUMBER: _ClassVar[int]
    rule: str
    points: int
    message: str
    recommendation: str
    def __init__(self, rule: _Optional[str] = ..., points: _Optional[int] = ..., message: _Optional[str] = ..., recommendation: _Optional[str] = ...) -> None: ...

class AdviseResponse(_message.Message):
    __slots__ = ("from_commit_ts", "to_commit_ts", "score", "findings")
    FROM_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    TO_COMMIT_TS_FIELD_NUMBER: _ClassVar[int]
    SCORE_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    from_commit_ts: int
    to_commit_ts: int
    score: int
    findings: _containers.RepeatedCompositeFieldContainer[AdvisoryFinding]
    def __init__(self, from_commit_ts: _Optional[int] = ..., to_commit_ts: _Optional[int] = ..., score: _Optional[int] = ..., findings: _Optional[_Iterable[_Union[AdvisoryFinding, _Mapping]]] = ...) -> None: ...

class GetReplayPlanRequest(_message.Message):
    __slots__ = ("namespace", "run_id")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    run_id: str
    def __init__(self, namespace: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class ReplayStep(_message.Message):
    __slots__ = ("sequence", "type", "id", "record", "hash")
    SEQUENCE_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    RECORD_FIELD_NUMBER: _ClassVar[int]
    HASH_FIELD_NUMBER: _ClassVar[int]
    sequence: int
    type: str
    id: str
    record: str
    hash: str
    def __init__(self, sequence: _Optional[int] = ..., type: _Optional[str] = ..., id: _Optional[str] = ..., record: _Optional[str] = ..., hash: _Optional[str] = ...) -> None: ...

class ReplaySource(_message.Message):
    __slots__ = ("source", "steps")
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    STEPS_FIELD_NUMBER: _ClassVar[int]
    source: str
    steps: _containers.RepeatedCompositeFieldContainer[ReplayStep]
    def __init__(self, source: _Optional[str] = ..., steps: _Optional[_Iterable[_Union[ReplayStep, _Mapping]]] = ...) -> None: ...

class ReplayFinding(_message.Message):
    __slots__ = ("rule", "source", "message")
    RULE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_FIELD_NUMBER: _ClassVar[int]
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    rule: str
    source: str
    message: str
    def __init__(self, rule: _Optional[str] = ..., source: _Optional[str] = ..., message: _Optional[str] = ...) -> None: ...

class ReplayPlan(_message.Message):
    __slots__ = ("run_id", "sources", "findings")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    SOURCES_FIELD_NUMBER: _ClassVar[int]
    FINDINGS_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    sources: _containers.RepeatedCompositeFieldContainer[ReplaySource]
    findings: _containers.RepeatedCompositeFieldContainer[ReplayFinding]
    def __init__(self, run_id: _Optional[str] = ..., sources: _Optional[_Iterable[_Union[ReplaySource, _Mapping]]] = ..., findings: _Optional[_Iterable[_Union[ReplayFinding, _Mapping]]] = ...) -> None: ...

class ArtifactChunk(_message.Message):
    __slots__ = ("namespace", "expected_sha256", "data")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EXPECTED_SHA256_FIELD_NUMBER: _ClassVar[int]
    DATA_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    expected_sha256: str
    data: bytes
    def __init__(self, namespace: _Optional[str] = ..., expected_sha256: _Optional[str] = ..., data: _Optional[bytes] = ...) -> None: ...

class ArtifactInfo(_message.Message):
    __slots__ = ("namespace", "sha256", "size", "exists", "deduplicated")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    SIZE_FIELD_NUMBER: _ClassVar[int]
    EXISTS_FIELD_NUMBER: _ClassVar[int]
    DEDUPLICATED_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    sha256: str
    size: int
    exists: bool
    deduplicated: bool
    def __init__(self, namespace: _Optional[str] = ..., sha256: _Optional[str] = ..., size: _Optional[int] = ..., exists: _Optional[bool] = ..., deduplicated: _Optional[bool] = ...) -> None: ...

class GetArtifactRequest(_message.Message):
    __slots__ = ("namespace", "sha256")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SHA256_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    sha256: str
    def __init__(self, namespace: _Optional[str] = ..., sha256: _Optional[str] = ...) -> None: ...

class CollectArtifactsRequest(_message.Message):
    __slots__ = ("namespace", "min_age_seconds")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    MIN_AGE_SECONDS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    min_age_seconds: int
    def __init__(self, namespace: _Optional[str] = ..., min_age_seconds: _Optional[int] = ...) -> None: ...

class CollectArtifactsResponse(_message.Message):
    __slots__ = ("examined", "removed", "bytes_removed")
    EXAMINED_FIELD_NUMBER: _ClassVar[int]
    REMOVED_FIELD_NUMBER: _ClassVar[int]
    BYTES_REMOVED_FIELD_NUMBER: _ClassVar[int]
    examined: int
    removed: int
    bytes_removed: int
    def __init__(self, examined: _Optional[int] = ..., removed: _Optional[int] = ..., bytes_removed: _Optional[int] = ...) -> None: ...

class ImportLogRequest(_message.Message):
    __slots__ = ("namespace", "source_namespace", "events")
    NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    SOURCE_NAMESPACE_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    namespace: str
    source_namespace: str
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, namespace: _Optional[str] = ..., source_namespace: _Optional[str] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class ImportLogResponse(_message.Message):
    __slots__ = ("head", "events")
    HEAD_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    head: LogHead
    events: int
    def __init__(self, head: _Optional[_Union[LogHead, _Mapping]] = ..., events: _Optional[int] = ...) -> None: ...
