import NIOCore
import Testing

@testable import UnderstudyPostgres

/// How the pipelined client reads what a server (or something pretending to be one) sends.
@Suite("PostgreSQL wire messages")
struct PostgresWireTests {
    func buffer(_ bytes: [UInt8]) -> ByteBuffer { ByteBuffer(bytes: bytes) }

    @Test("Messages are taken whole, one at a time, and a partial one waits for the rest")
    func framing() throws {
        // ReadyForQuery 'I', then the first 3 bytes of a CommandComplete.
        var bytes = buffer([0x5A, 0, 0, 0, 5, 0x49, 0x43, 0, 0])
        let ready = try #require(try PostgresWire.nextMessage(from: &bytes))
        #expect(ready.type == UInt8(ascii: "Z"))
        #expect(ready.body.readableBytes == 1)
        #expect(try PostgresWire.nextMessage(from: &bytes) == nil)
        #expect(bytes.readableBytes == 3, "the partial message stays for the next read")
    }

    @Test("A length under 4 or over 1 GiB is a protocol violation, not a crash or a huge allocation")
    func impossibleLengths() {
        for length: [UInt8] in [[0, 0, 0, 3], [0xFF, 0xFF, 0xFF, 0xFF], [0x7F, 0xFF, 0xFF, 0xFF]] {
            var bytes = buffer([0x44] + length)
            #expect(throws: PostgresPipelineError.self) { try PostgresWire.nextMessage(from: &bytes) }
        }
    }

    @Test("A DataRow's columns: text, NULL, empty; one that claims more than it holds is refused")
    func dataRows() throws {
        var row = buffer([0, 3, 0, 0, 0, 2, 0x68, 0x69, 0xFF, 0xFF, 0xFF, 0xFF, 0, 0, 0, 0])
        var values: [String?] = []
        try PostgresWire.readDataRow(from: &row, into: &values)
        #expect(values == ["hi", nil, ""])
        var short = buffer([0, 2, 0, 0, 0, 9, 0x68])
        #expect(throws: PostgresPipelineError.self) { try PostgresWire.readDataRow(from: &short, into: &values) }
        var missing = buffer([0, 2, 0, 0, 0, 1, 0x68])
        #expect(throws: PostgresPipelineError.self) { try PostgresWire.readDataRow(from: &missing, into: &values) }
    }

    @Test("An ErrorResponse gives its SQLSTATE, message and constraint; a truncated one still gives what it has")
    func errors() {
        var body = ByteBuffer()
        for (field, value) in [("S", "ERROR"), ("C", "23503"), ("M", "violates foreign key"), ("n", "fk_owner")] {
            body.writeString(field)
            body.writeNullTerminated(value)
        }
        body.writeInteger(UInt8(0))
        let error = PostgresWire.serverError(from: &body)
        #expect(error.sqlState == "23503")
        #expect(error.message == "violates foreign key")
        #expect(error.constraint == "fk_owner")
        var truncated = buffer(Array("Cxx".utf8))
        let partial = PostgresWire.serverError(from: &truncated)
        #expect(partial.sqlState == "XX000")
        #expect(partial.message == "unknown error")
    }

    @Test("A statement run is Bind, Execute and Sync with its parameters' lengths in bytes")
    func bindExecuteSync() {
        var out = ByteBuffer()
        PostgresWire.writeRun(statement: "s", parameters: ["é", ""], into: &out)
        let bytes = Array(out.readableBytesView)
        #expect(bytes.first == UInt8(ascii: "B"))
        // B, length, portal "", "s\0", 0 format codes, 2 parameters, (2, "é"), (0, ""), 0 result formats
        let bind: [UInt8] = [0, 0x73, 0, 0, 0, 0, 2, 0, 0, 0, 2, 0xC3, 0xA9, 0, 0, 0, 0, 0, 0]
        #expect(Array(bytes[5..<(5 + bind.count)]) == bind)
        #expect(Array(bytes.suffix(5)) == [UInt8(ascii: "S"), 0, 0, 0, 4])
    }
}
