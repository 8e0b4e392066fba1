/// Conversions between Statehouse's model and the generated `statehouse.v2` messages, in both directions, and the
/// error ↔ status table both ways.
///
/// The server decodes requests and encodes replies; the Swift client encodes requests and decodes replies. Having
/// both directions side by side (as etcd keeps its `pb` conversions) means a field added to the proto is converted
/// once, and `WireTests` checks that every conversion round-trips. Generated types never leave this module and
/// the ones that use it (`package` access).
///
/// - `Wire+Decoding.swift`: proto → model. Request fields are validated here (values, kinds, conditions) with the same
///   errors whoever sends them; reply fields are trusted (the daemon validated them when they were written).
/// - `Wire+Encoding.swift`: model → proto.
/// - `StatehouseError+RPC.swift`: ``StatehouseModel/StatehouseError`` ↔ gRPC status and session errors.
package enum Wire {}
