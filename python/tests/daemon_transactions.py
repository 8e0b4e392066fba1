"""Transactions begun on the daemon (BeginTransaction), for the tests of what the daemon does with its own: their
limits, their expiry, their log lines, their fate in a restart.

``begin_transaction`` begins a transaction on the client (no round trip, the daemon never hears of it until the
commit); these helpers begin one on the daemon and attach the SDK to it, as ``Transaction(client, txn_id)`` does
for a transaction begun elsewhere.
"""

from __future__ import annotations

from typing import Optional

from statehouse import AsyncStatehouse, AsyncTransaction, Statehouse, Transaction
from statehouse import _operations as ops


def begin_on_daemon(
    client: Statehouse, timeout_ms: Optional[int] = None, namespace: Optional[str] = None
) -> Transaction:
    txn_id, begun_in = client._run(ops.begin(client._ns(namespace), timeout_ms))
    return Transaction(client, txn_id, begun_in)


async def begin_on_daemon_async(
    client: AsyncStatehouse, timeout_ms: Optional[int] = None, namespace: Optional[str] = None
) -> AsyncTransaction:
    txn_id, begun_in = await client._run(ops.begin(client._ns(namespace), timeout_ms))
    return AsyncTransaction(client, txn_id, begun_in)
