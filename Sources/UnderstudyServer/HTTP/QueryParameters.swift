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
        let plain = ASCIIBytes.with(query) { bytes in
            !bytes.contains(UInt8(ascii: "%")) && !bytes.contains(UInt8(ascii: "+"))
        }
        guard !plain else {
            storage = .plain(query)
            return
        }
        var pairs: [(name: Substring, value: Substring)] = []
        ASCIIBytes.with(query) { bytes in
            Self.forEachPair(in: bytes) { name, value in
                pairs.append((query.utf8Slice(name), query.utf8Slice(value)))
                return false
            }
        }
        storage = .decoded(
            try pairs.map { pair throws(PercentEncoding.DecodingError) in
                (
                    try PercentEncoding.decode(pair.name, plusIsSpace: true),
                    try PercentEncoding.decode(pair.value, plusIsSpace: true)
                )
            })
    }

    /// The first value of `name`, if the query has it.
    subscript(name: String) -> String? {
        switch storage {
        case .empty:
            return nil
        case .decoded(let pairs):
            return pairs.first { $0.name == name }?.value
        case .plain(let query):
            var found: Range<Int>?
            ASCIIBytes.with(query) { bytes in
                Self.forEachPair(in: bytes) { nameRange, valueRange in
                    guard bytes.equals(nameRange, name) else { return false }
                    found = valueRange
                    return true
                }
            }
            return found.map { String(query.utf8Slice($0)) }
        }
    }

    /// Calls `body` with the byte ranges of each `name=value` pair in order (a name alone has an
    /// empty value; empty pairs between `&`s are skipped) until it returns `true`.
    private static func forEachPair(in bytes: ASCIIBytes, _ body: (Range<Int>, Range<Int>) -> Bool) {
        var start = 0
        while start < bytes.count {
            let end = bytes.firstIndex(of: UInt8(ascii: "&"), from: start) ?? bytes.count
            if start != end {
                let equals = bytes.firstIndex(of: UInt8(ascii: "="), from: start, before: end)
                let name = start..<(equals ?? end)
                let value = equals.map { ($0 + 1)..<end } ?? end..<end
                if body(name, value) { return }
            }
            start = end + 1
        }
    }
}
