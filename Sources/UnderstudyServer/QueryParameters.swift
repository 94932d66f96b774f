import UnderstudyCore

/// The query string of a request, form-decoded as a servlet container decodes it.
///
/// Most queries (`accountId=557058:ada`) have nothing to decode; those are read in place, so that
/// looking a parameter up costs no copies. A query with `%` or `+` is decoded once, whole, which
/// also finds a malformed escape before the request goes any further.
struct QueryParameters {
    private enum Storage {
        case empty
        /// The query as sent: no escapes and no `+`, so names and values are as they stand.
        case plain(Substring)
        case decoded([(name: String, value: String)])
    }

    private let storage: Storage

    init(_ query: Substring?) throws(PercentEncoding.DecodingError) {
        guard let query, !query.isEmpty else {
            storage = .empty
            return
        }
        guard query.utf8.contains(where: { $0 == UInt8(ascii: "%") || $0 == UInt8(ascii: "+") }) else {
            storage = .plain(query)
            return
        }
        var pairs: [(name: String, value: String)] = []
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let (name, value) = Self.nameAndValue(of: part)
            pairs.append(
                (
                    try PercentEncoding.decode(name, plusIsSpace: true),
                    try PercentEncoding.decode(value, plusIsSpace: true)
                ))
        }
        storage = .decoded(pairs)
    }

    /// The first value of `name`, if the query has it.
    subscript(name: String) -> String? {
        switch storage {
        case .empty:
            return nil
        case .decoded(let pairs):
            return pairs.first { $0.name == name }?.value
        case .plain(let query):
            let range: Range<Int>? = ASCIIBytes.with(query) { bytes in
                var start = 0
                while start < bytes.count {
                    let end = bytes.firstIndex(of: UInt8(ascii: "&"), from: start) ?? bytes.count
                    let equals = bytes.firstIndex(of: UInt8(ascii: "="), from: start, before: end)
                    if start != end, bytes.equals(start..<(equals ?? end), name) {
                        return equals.map { ($0 + 1)..<end } ?? end..<end
                    }
                    start = end + 1
                }
                return nil
            }
            return range.map { String(query.utf8Slice($0)) }
        }
    }

    /// `name=value`, or a name alone (whose value is empty).
    private static func nameAndValue(of part: Substring) -> (name: Substring, value: Substring) {
        guard let equals = part.utf8.firstIndex(of: UInt8(ascii: "=")) else { return (part, "") }
        return (part[..<equals], part[part.utf8.index(after: equals)...])
    }
}
