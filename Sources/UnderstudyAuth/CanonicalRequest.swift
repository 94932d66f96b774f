import Crypto
import Foundation
import UnderstudyCore

/// The canonical form of a request that a Connect JWT's `qsh` claim hashes (spec 5.3):
/// `METHOD&canonicalPath&canonicalQuery`.
public struct CanonicalRequest: Sendable, Equatable, CustomStringConvertible {
    public let method: String
    public let path: String
    public let query: String

    public var description: String { "\(method)&\(path)&\(query)" }

    /// Lowercase hex SHA-256 of the canonical request: the value `qsh` must carry.
    public var queryStringHash: String {
        Hex.lowercase(SHA256.hash(data: Array(description.utf8)))
    }

    /// How a repeated parameter's values are ordered before they are joined.
    public enum ValueOrder: Sendable {
        /// By their percent-encoded form, as the specification says.
        case encoded
        /// By their decoded form, as Atlassian's Python library `atlassian-jwt` does.
        case decoded
    }

    /// Canonicalises a request.
    /// - Parameters:
    ///   - method: the HTTP method.
    ///   - target: the request target as sent: path and optional query, not percent-decoded.
    ///   - basePath: the path of the site's base URL (e.g. `/jira`), removed from the front.
    ///   - valueOrder: how repeated values are sorted.
    public init(method: String, target: Substring, basePath: String = "", valueOrder: ValueOrder = .encoded) {
        let queryStart = target.firstIndex(of: "?")
        let rawPath = queryStart.map { target[..<$0] } ?? target
        let rawQuery = queryStart.map { target[target.index(after: $0)...] } ?? ""
        self.method = method.uppercased()
        self.path = Self.canonicalPath(rawPath, basePath: basePath)
        self.query = Self.canonicalQuery(rawQuery, valueOrder: valueOrder)
    }

    /// Works on UTF-8 bytes, not Characters: a combining mark after a slash must not hide the slash.
    static func canonicalPath(_ rawPath: Substring, basePath: String) -> String {
        let slash = UInt8(ascii: "/")
        var path = Array(rawPath.utf8)[...]
        var base = Array(basePath.utf8)[...]
        if base.last == slash { base = base.dropLast() }
        if !base.isEmpty, path.starts(with: base) {
            let rest = path.dropFirst(base.count)
            if rest.isEmpty || rest.first == slash { path = rest }
        }
        var bytes: [UInt8] = []
        bytes.reserveCapacity(path.count + 1)
        for byte in path {
            if byte == UInt8(ascii: "&") { bytes.append(contentsOf: "%26".utf8) } else { bytes.append(byte) }
        }
        while bytes.count > 1, bytes.last == slash { bytes.removeLast() }
        if bytes.first != slash { bytes.insert(slash, at: 0) }
        return String(decoding: bytes, as: UTF8.self)
    }

    static func canonicalQuery(_ rawQuery: Substring, valueOrder: ValueOrder) -> String {
        var valuesByName: [String: [(encoded: String, decoded: String)]] = [:]
        for part in rawQuery.split(separator: "&", omittingEmptySubsequences: true) {
            let equals = part.firstIndex(of: "=")
            let name = PercentEncoding.decodeLeniently(equals.map { part[..<$0] } ?? part, plusIsSpace: true)
            guard name != "jwt" else { continue }
            let value = PercentEncoding.decodeLeniently(
                equals.map { part[part.index(after: $0)...] } ?? "", plusIsSpace: true)
            valuesByName[PercentEncoding.encode(name), default: []].append((PercentEncoding.encode(value), value))
        }
        return valuesByName.keys.sorted(by: byteOrder).map { name in
            let values = valuesByName[name]!
            let sorted =
                switch valueOrder {
                case .encoded: values.sorted { byteOrder($0.encoded, $1.encoded) }
                case .decoded: values.sorted { byteOrder($0.decoded, $1.decoded) }
                }
            return name + "=" + sorted.map(\.encoded).joined(separator: ",")
        }.joined(separator: "&")
    }

    private static func byteOrder(_ lhs: String, _ rhs: String) -> Bool {
        lhs.utf8.lexicographicallyPrecedes(rhs.utf8)
    }
}
