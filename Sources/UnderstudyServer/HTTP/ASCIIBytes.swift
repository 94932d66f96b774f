import HTTPTypes

/// The UTF-8 bytes of a piece of a request (its path, its query, a header value), matched against
/// ASCII literals by offset.
///
/// Routing, query lookups and credential parsing run on every request; stepping through a
/// `Substring`'s UTF-8 view checks each index as it goes, which made these scans show on the
/// profile. On a buffer they are plain loops.
struct ASCIIBytes {
    let bytes: UnsafeBufferPointer<UInt8>

    var count: Int { bytes.count }

    /// Calls `body` with the bytes of `text`, without copying a native string.
    static func with<Result>(_ text: Substring, _ body: (ASCIIBytes) throws -> Result) rethrows -> Result {
        var text = text
        return try text.withUTF8 { try body(ASCIIBytes(bytes: $0)) }
    }

    /// Whether the bytes from `offset` on start with `literal`.
    func hasPrefix(_ literal: StaticString, at offset: Int = 0) -> Bool {
        let length = literal.utf8CodeUnitCount
        guard offset >= 0, count - offset >= length else { return false }
        let start = literal.utf8Start
        for index in 0..<length where bytes[offset + index] != start[index] { return false }
        return true
    }

    /// Whether the bytes from `offset` on are exactly `literal`.
    func equals(_ literal: StaticString, at offset: Int = 0) -> Bool {
        count - offset == literal.utf8CodeUnitCount && hasPrefix(literal, at: offset)
    }

    /// Whether the bytes in `range` are `other`'s UTF-8 bytes.
    func equals(_ range: Range<Int>, _ other: String) -> Bool {
        var other = other
        return other.withUTF8 { other in
            other.count == range.count && zip(bytes[range], other).allSatisfy { $0 == $1 }
        }
    }

    /// Whether the bytes in `range` spell `lowercaseLiteral`, ignoring ASCII case.
    func equalsIgnoringCase(_ range: Range<Int>, _ lowercaseLiteral: StaticString) -> Bool {
        guard range.count == lowercaseLiteral.utf8CodeUnitCount else { return false }
        let start = lowercaseLiteral.utf8Start
        for (index, byte) in bytes[range].enumerated() {
            let lowered = byte >= UInt8(ascii: "A") && byte <= UInt8(ascii: "Z") ? byte | 0x20 : byte
            if lowered != start[index] { return false }
        }
        return true
    }

    /// The first offset of `byte` in `offset..<end` (`end` defaults to the end of the bytes).
    func firstIndex(of byte: UInt8, from offset: Int = 0, before end: Int? = nil) -> Int? {
        var index = offset
        let end = min(end ?? count, count)
        while index < end {
            if bytes[index] == byte { return index }
            index += 1
        }
        return nil
    }

    func contains(_ byte: UInt8, from offset: Int = 0) -> Bool {
        firstIndex(of: byte, from: offset) != nil
    }

    /// Whether `literal` occurs anywhere from `offset` on.
    func contains(_ literal: StaticString, from offset: Int = 0) -> Bool {
        guard literal.utf8CodeUnitCount > 0 else { return true }
        var start = offset
        while let found = firstIndex(of: literal.utf8Start[0], from: start) {
            if hasPrefix(literal, at: found) { return true }
            start = found + 1
        }
        return false
    }
}

extension Substring {
    /// The part of this substring between two UTF-8 offsets (found with ``ASCIIBytes``).
    func utf8Slice(_ range: Range<Int>) -> Substring {
        let lower = utf8.index(startIndex, offsetBy: range.lowerBound)
        let upper = utf8.index(lower, offsetBy: range.count)
        return self[lower..<upper]
    }

    /// The rest after the first `count` UTF-8 bytes.
    func utf8Suffix(from offset: Int) -> Substring {
        self[utf8.index(startIndex, offsetBy: offset)...]
    }
}

extension HTTPFields {
    /// The value of a field that a request should send once, without the copy that joining
    /// several values makes; several fields of that name are joined as `subscript(_:)` does.
    func value(of name: HTTPField.Name) -> String? {
        var found: String?
        for field in self where field.name == name {
            guard found == nil else { return self[name] }
            found = field.value
        }
        return found
    }
}
