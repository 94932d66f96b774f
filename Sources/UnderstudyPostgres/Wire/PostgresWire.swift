import NIOCore

/// The few messages of PostgreSQL's frontend/backend protocol (version 3.0) that a pipelined
/// connection sends and reads: start-up and authentication, named statements parsed once, and
/// Bind/Execute/Sync for each statement run.
enum PostgresWire {
    /// A backend message: its type byte and its body (the length already removed).
    struct Message {
        let type: UInt8
        var body: ByteBuffer
    }

    /// Takes one whole message off the front of `buffer`, or nil while it is incomplete.
    static func nextMessage(from buffer: inout ByteBuffer) throws(PostgresPipelineError) -> Message? {
        guard buffer.readableBytes >= 5,
            let type = buffer.getInteger(at: buffer.readerIndex, as: UInt8.self),
            let length = buffer.getInteger(at: buffer.readerIndex + 1, as: Int32.self)
        else { return nil }
        guard length >= 4, length <= 1 << 30 else {
            throw .protocolViolation("a message of type \(Character(Unicode.Scalar(type))) claims \(length) bytes")
        }
        guard buffer.readableBytes >= 1 + Int(length) else { return nil }
        buffer.moveReaderIndex(forwardBy: 5)
        let body = buffer.readSlice(length: Int(length) - 4)!
        return Message(type: type, body: body)
    }

    // MARK: Frontend messages

    static func writeStartup(user: String, database: String, parameters: [(String, String)], into out: inout ByteBuffer)
    {
        let start = out.writerIndex
        out.writeInteger(Int32(0))
        out.writeInteger(Int32(196_608))  // protocol 3.0
        for (name, value) in [("user", user), ("database", database)] + parameters {
            out.writeNullTerminated(name)
            out.writeNullTerminated(value)
        }
        out.writeInteger(UInt8(0))
        out.setInteger(Int32(out.writerIndex - start), at: start)
    }

    /// A message with a type byte and a length that counts itself and the body `body` writes.
    static func writeMessage(_ type: UInt8, into out: inout ByteBuffer, body: (inout ByteBuffer) -> Void) {
        out.writeInteger(type)
        let lengthAt = out.writerIndex
        out.writeInteger(Int32(0))
        body(&out)
        out.setInteger(Int32(out.writerIndex - lengthAt), at: lengthAt)
    }

    static func writePassword(_ text: String, into out: inout ByteBuffer) {
        writeMessage(UInt8(ascii: "p"), into: &out) { $0.writeNullTerminated(text) }
    }

    static func writeSASLInitialResponse(mechanism: String, data: [UInt8], into out: inout ByteBuffer) {
        writeMessage(UInt8(ascii: "p"), into: &out) {
            $0.writeNullTerminated(mechanism)
            $0.writeInteger(Int32(data.count))
            $0.writeBytes(data)
        }
    }

    static func writeSASLResponse(_ data: [UInt8], into out: inout ByteBuffer) {
        writeMessage(UInt8(ascii: "p"), into: &out) { $0.writeBytes(data) }
    }

    /// Parses `sql` once under `name`; its parameters' types are inferred.
    static func writeParse(name: String, sql: String, into out: inout ByteBuffer) {
        writeMessage(UInt8(ascii: "P"), into: &out) {
            $0.writeNullTerminated(name)
            $0.writeNullTerminated(sql)
            $0.writeInteger(Int16(0))
        }
    }

    /// Runs the named statement with text parameters and text results, then ends the implicit
    /// transaction: Bind, Execute, Sync. The answer ends with ReadyForQuery.
    static func writeRun(statement name: String, parameters: [String], into out: inout ByteBuffer) {
        writeBindAndExecute(statement: name, parameters: parameters, into: &out)
        writeSync(into: &out)
    }

    /// Bind and Execute, without the Sync that ends the transaction.
    static func writeBindAndExecute(statement name: String, parameters: [String], into out: inout ByteBuffer) {
        writeMessage(UInt8(ascii: "B"), into: &out) {
            $0.writeInteger(UInt8(0))  // the unnamed portal
            $0.writeNullTerminated(name)
            $0.writeInteger(Int16(0))  // every parameter in text
            $0.writeInteger(Int16(parameters.count))
            for parameter in parameters {
                let lengthAt = $0.writerIndex
                $0.writeInteger(Int32(0))
                let written = $0.writeString(parameter)
                $0.setInteger(Int32(written), at: lengthAt)
            }
            $0.writeInteger(Int16(0))  // every result column in text
        }
        writeMessage(UInt8(ascii: "E"), into: &out) {
            $0.writeInteger(UInt8(0))
            $0.writeInteger(Int32(0))  // all rows
        }
    }

    static func writeSync(into out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "S"))
        out.writeInteger(Int32(4))
    }

    static func writeTerminate(into out: inout ByteBuffer) {
        out.writeInteger(UInt8(ascii: "X"))
        out.writeInteger(Int32(4))
    }

    // MARK: Backend messages

    /// The fields of an ErrorResponse that the store reads: SQLSTATE, message, constraint.
    static func serverError(from body: inout ByteBuffer) -> PostgresServerError {
        var fields: [UInt8: String] = [:]
        while let field = body.readInteger(as: UInt8.self), field != 0 {
            guard let value = body.readNullTerminatedString() else { break }
            fields[field] = value
        }
        return PostgresServerError(
            sqlState: fields[UInt8(ascii: "C")] ?? "XX000", message: fields[UInt8(ascii: "M")] ?? "unknown error",
            constraint: fields[UInt8(ascii: "n")])
    }

    /// Appends a DataRow's columns to `values` (nil for NULL).
    static func readDataRow(from body: inout ByteBuffer, into values: inout [String?]) throws(PostgresPipelineError) {
        guard let count = body.readInteger(as: Int16.self) else {
            throw .protocolViolation("a DataRow without a count")
        }
        for _ in 0..<Int(count) {
            guard let length = body.readInteger(as: Int32.self) else {
                throw .protocolViolation("a DataRow shorter than its columns")
            }
            if length < 0 {
                values.append(nil)
            } else if let text = body.readString(length: Int(length)) {
                values.append(text)
            } else {
                throw .protocolViolation("a DataRow column longer than the row")
            }
        }
    }
}

extension ByteBuffer {
    mutating func writeNullTerminated(_ text: String) {
        writeString(text)
        writeInteger(UInt8(0))
    }
}

/// An error PostgreSQL reported for a statement (an ErrorResponse).
struct PostgresServerError: Error, CustomStringConvertible, Sendable {
    let sqlState: String
    let message: String
    let constraint: String?

    var description: String { message }
}

/// Why a pipelined connection could not run a statement.
enum PostgresPipelineError: Error, CustomStringConvertible, Sendable {
    /// Connecting, authenticating or preparing failed; says why.
    case cannotConnect(String)
    /// The connection closed or failed while statements were waiting.
    case connectionLost(String)
    /// The server stopped answering: the oldest statement waited longer than the backstop.
    case noAnswer(String)
    /// The server sent something this client does not understand.
    case protocolViolation(String)

    var description: String {
        switch self {
        case .cannotConnect(let why): why
        case .connectionLost(let why), .noAnswer(let why): why
        case .protocolViolation(let what): "PostgreSQL sent what this client cannot read: \(what)"
        }
    }
}
