import VaporCSQLite

/// A value bound to or read from a statement.
enum SQLValue: Sendable, Equatable {
    case text(String)
    case integer(Int64)
    case null

    var text: String? { if case .text(let value) = self { value } else { nil } }
    var integer: Int64? { if case .integer(let value) = self { value } else { nil } }
}

/// An error SQLite reported, with its extended result code.
struct SQLiteFailure: Error, CustomStringConvertible {
    let code: Int32
    let message: String

    /// Any constraint failure (foreign key, unique, check).
    var isConstraint: Bool { code & 0xFF == SQLITE_CONSTRAINT }
    var description: String { "SQLite error \(code): \(message)" }
}

/// A connection used by exactly one thread (the writer's), with its prepared statements kept for
/// reuse. SQLite's C API through the library sqlite-nio bundles, so no system library is needed.
final class RawConnection {
    private var handle: OpaquePointer?
    private var statements: [String: OpaquePointer] = [:]

    init(path: String, readOnly: Bool = false) throws {
        let access = readOnly ? SQLITE_OPEN_READONLY : SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
        let flags = access | SQLITE_OPEN_NOMUTEX
        let status = sqlite_nio_sqlite3_open_v2(path, &handle, flags, nil)
        guard status == SQLITE_OK else {
            let message = handle.map { String(cString: sqlite_nio_sqlite3_errmsg($0)) } ?? "cannot open"
            sqlite_nio_sqlite3_close_v2(handle)
            handle = nil
            throw SQLiteFailure(code: status, message: message)
        }
        sqlite_nio_sqlite3_extended_result_codes(handle, 1)
    }

    /// Runs one or more statements without results (PRAGMAs, BEGIN, COMMIT, DDL).
    func execute(_ sql: String) throws {
        var error: UnsafeMutablePointer<CChar>?
        let status = sqlite_nio_sqlite3_exec(handle, sql, nil, nil, &error)
        guard status == SQLITE_OK else {
            let message = error.map { String(cString: $0) } ?? "unknown error"
            sqlite_nio_sqlite3_free(error)
            throw SQLiteFailure(code: sqlite_nio_sqlite3_extended_errcode(handle), message: message)
        }
    }

    /// Runs one statement, prepared once and reused, and returns its rows.
    @discardableResult
    func query(_ sql: String, _ binds: [SQLValue] = []) throws -> [[SQLValue]] {
        let statement = try prepared(sql)
        defer {
            sqlite_nio_sqlite3_reset(statement)
            sqlite_nio_sqlite3_clear_bindings(statement)
        }
        let transient = unsafeBitCast(-1, to: sqlite3_destructor_type.self)
        for (offset, value) in binds.enumerated() {
            let index = Int32(offset + 1)
            let status: Int32
            switch value {
            case .text(var text):
                // With its length in bytes: as a C string, a text with U+0000 in it would be cut there
                // (and a lookup of "ada\u{0}x" would find "ada").
                status = text.withUTF8 { bytes in
                    bytes.withMemoryRebound(to: CChar.self) { characters in
                        guard let start = characters.baseAddress, !characters.isEmpty else {
                            return sqlite_nio_sqlite3_bind_text(statement, index, "", 0, transient)
                        }
                        return sqlite_nio_sqlite3_bind_text(statement, index, start, Int32(characters.count), transient)
                    }
                }
            case .integer(let number): status = sqlite_nio_sqlite3_bind_int64(statement, index, number)
            case .null: status = sqlite_nio_sqlite3_bind_null(statement, index)
            }
            guard status == SQLITE_OK else { throw failure() }
        }
        var rows: [[SQLValue]] = []
        while true {
            let status = sqlite_nio_sqlite3_step(statement)
            if status == SQLITE_DONE { return rows }
            guard status == SQLITE_ROW else { throw failure() }
            let count = sqlite_nio_sqlite3_column_count(statement)
            rows.append(
                (0..<count).map { column in
                    switch sqlite_nio_sqlite3_column_type(statement, column) {
                    case SQLITE_INTEGER: .integer(sqlite_nio_sqlite3_column_int64(statement, column))
                    case SQLITE_NULL: .null
                    default:
                        // Its length from SQLite, not up to the first zero byte.
                        .text(
                            String(
                                decoding: UnsafeBufferPointer(
                                    start: sqlite_nio_sqlite3_column_text(statement, column),
                                    count: Int(sqlite_nio_sqlite3_column_bytes(statement, column))), as: UTF8.self))
                    }
                })
        }
    }

    private func prepared(_ sql: String) throws -> OpaquePointer {
        if let statement = statements[sql] { return statement }
        var statement: OpaquePointer?
        guard sqlite_nio_sqlite3_prepare_v2(handle, sql, -1, &statement, nil) == SQLITE_OK, let statement else {
            throw failure()
        }
        statements[sql] = statement
        return statement
    }

    private func failure() -> SQLiteFailure {
        SQLiteFailure(
            code: sqlite_nio_sqlite3_extended_errcode(handle),
            message: String(cString: sqlite_nio_sqlite3_errmsg(handle)))
    }

    func close() {
        for statement in statements.values { sqlite_nio_sqlite3_finalize(statement) }
        statements.removeAll()
        sqlite_nio_sqlite3_close_v2(handle)
        handle = nil
    }
}
