import Synchronization

/// Reader connections used synchronously by whichever thread asks, each behind its own lock, taken
/// in turn. In WAL mode a reader sees the last committed state and never waits for the writer.
final class ReaderPool: Sendable {
    /// One reader connection and the lock that gives one thread at a time its use.
    private final class Slot: Sendable {
        let connection: Mutex<RawConnection>
        init(_ connection: consuming sending RawConnection) { self.connection = Mutex(connection) }
    }

    private let slots: [Slot]
    private let next = Atomic<Int>(0)

    init(path: String, count: Int) throws {
        var slots: [Slot] = []
        for _ in 0..<max(1, count) {
            let connection = try RawConnection(path: path, readOnly: true)
            try connection.execute("PRAGMA busy_timeout = 5000")
            slots.append(Slot(connection))
        }
        self.slots = slots
    }

    func query(_ sql: String, _ binds: [SQLValue]) throws -> [[SQLValue]] {
        let slot = slots[next.wrappingAdd(1, ordering: .relaxed).oldValue % slots.count]
        return try slot.connection.withLock { try $0.query(sql, binds) }
    }

    func close() {
        for slot in slots { slot.connection.withLock { $0.close() } }
    }
}
