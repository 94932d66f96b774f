import NIOCore
import UnderstudyCore

/// Writes JSON straight into a response buffer: the hot responses (users, key lists, property
/// values) are built without an intermediate tree and with stored values copied as raw bytes.
struct JSONBuffer {
    private(set) var buffer: ByteBuffer

    init(capacity: Int = 256) {
        buffer = ByteBufferAllocator().buffer(capacity: capacity)
    }

    /// Literal JSON syntax: braces, member names with their colon, `true`, …
    mutating func raw(_ text: StaticString) {
        text.withUTF8Buffer { _ = buffer.writeBytes($0) }
    }

    /// Bytes already in JSON form.
    mutating func bytes(_ other: ByteBuffer) {
        buffer.writeImmutableBuffer(other)
    }

    /// Text that is already JSON, such as a stored property value.
    mutating func json(_ text: String) {
        buffer.writeString(text)
    }

    mutating func number(_ value: Int) {
        buffer.writeString(String(value))
    }

    mutating func bool(_ value: Bool) {
        value ? raw("true") : raw("false")
    }

    /// `text` percent-encoded (RFC 3986, unreserved characters literal), written in place. The
    /// result is plain ASCII without quotes or backslashes, so it needs no JSON escaping.
    mutating func percentEncoded(_ text: String) {
        let hex: StaticString = "0123456789ABCDEF"
        for byte in text.utf8 {
            if PercentEncoding.isUnreserved(byte) {
                buffer.writeInteger(byte)
            } else {
                buffer.writeInteger(UInt8(ascii: "%"))
                buffer.writeInteger(hex.utf8Start[Int(byte >> 4)])
                buffer.writeInteger(hex.utf8Start[Int(byte & 0x0F)])
            }
        }
    }

    /// A string literal with quotes, backslashes and control characters escaped.
    mutating func string(_ text: String) {
        buffer.writeInteger(UInt8(ascii: "\""))
        stringContent(text)
        buffer.writeInteger(UInt8(ascii: "\""))
    }

    /// The escaped text of a string literal without its quotes, for building one string in pieces.
    mutating func stringContent(_ text: String) {
        var text = text
        text.withUTF8 { bytes in
            var start = 0
            for index in bytes.indices {
                let byte = bytes[index]
                guard byte < 0x20 || byte == UInt8(ascii: "\"") || byte == UInt8(ascii: "\\") else { continue }
                buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start..<index]))
                escape(byte)
                start = index + 1
            }
            buffer.writeBytes(UnsafeRawBufferPointer(rebasing: UnsafeRawBufferPointer(bytes)[start...]))
        }
    }

    private mutating func escape(_ byte: UInt8) {
        switch byte {
        case UInt8(ascii: "\""): raw("\\\"")
        case UInt8(ascii: "\\"): raw("\\\\")
        case UInt8(ascii: "\n"): raw("\\n")
        case UInt8(ascii: "\r"): raw("\\r")
        case UInt8(ascii: "\t"): raw("\\t")
        case 0x08: raw("\\b")
        case 0x0C: raw("\\f")
        default:
            let hex = Array("0123456789abcdef".utf8)
            raw("\\u00")
            buffer.writeInteger(hex[Int(byte >> 4)])
            buffer.writeInteger(hex[Int(byte & 0x0F)])
        }
    }
}
