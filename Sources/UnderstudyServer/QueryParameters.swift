import UnderstudyCore

/// The query string of a request, form-decoded as a servlet container decodes it.
struct QueryParameters {
    private(set) var pairs: [(name: String, value: String)] = []

    init(_ query: Substring?) throws(PercentEncoding.DecodingError) {
        guard let query, !query.isEmpty else { return }
        for part in query.split(separator: "&", omittingEmptySubsequences: true) {
            let name: Substring
            let value: Substring
            if let equals = part.firstIndex(of: "=") {
                name = part[..<equals]
                value = part[part.index(after: equals)...]
            } else {
                name = part
                value = ""
            }
            pairs.append(
                (
                    try PercentEncoding.decode(name, plusIsSpace: true),
                    try PercentEncoding.decode(value, plusIsSpace: true)
                ))
        }
    }

    /// The first value of `name`, if the query has it.
    subscript(name: String) -> String? {
        pairs.first { $0.name == name }?.value
    }
}
