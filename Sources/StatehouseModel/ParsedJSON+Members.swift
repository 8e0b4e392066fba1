extension ParsedJSON {
    /// An object's member by name (`nil` for a missing member or a value that is not an object): records are small, so a
    /// scan of the members beats building a dictionary.
    package subscript(member name: String) -> ParsedJSON? {
        guard case .object(let members) = self else { return nil }
        return members.first { $0.name == name }?.value
    }
}
