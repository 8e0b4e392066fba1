@_exported public import StatehouseLedger
// The engine's API is written in the model's types; re-exporting them spares every user of the engine (the backends,
// the services, the server, tests) a second import. The client and the CLI import StatehouseModel alone. The ledger's
// types (tree heads, proofs, the signing key) are part of the engine's API too.
@_exported public import StatehouseModel
