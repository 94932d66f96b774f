import NIOCore
import Synchronization

/// A few pipelined connections that the hot statements share; each opens on first use and again
/// after it failed. Requests never wait for a free connection: a statement joins its connection's
/// pipeline at once. Reads and writes go on connections of their own, taken in turn: a connection
/// answers in order, so a write waiting for a row lock (held by a site load through another server,
/// say) must not hold up the reads queued behind it — reads never wait for locks.
final class PostgresPipeline: Sendable {
    typealias Opener = @Sendable () async throws -> PostgresPipelineConnection

    private let readers: Lanes
    private let writers: Lanes

    init(readers: Int, writers: Int, open: @escaping Opener) {
        self.readers = Lanes(count: readers, open: open)
        self.writers = Lanes(count: writers, open: open)
    }

    /// Runs the statement on the next connection in turn. A read whose connection was lost before
    /// it was answered (ended by the server, say) is sent once more, on a new connection; a write
    /// is not, since it may have been done.
    func run(_ statement: PostgresStatement, _ parameters: [String]) async throws -> PostgresPipelineRows {
        let lane = (statement.isRead ? readers : writers).next()
        do {
            return try await lane.connection().run(statement, parameters)
        } catch let error as PostgresPipelineError where statement.isRead {
            guard case .connectionLost = error else { throw error }
            return try await lane.connection().run(statement, parameters)
        }
    }

    func close() async {
        for lane in readers.all + writers.all { await lane.close() }
    }

    /// Connections taken in turn.
    private final class Lanes: Sendable {
        let all: [Lane]
        private let turn = Atomic<Int>(0)

        init(count: Int, open: @escaping Opener) {
            all = (0..<max(1, count)).map { _ in Lane(open: open) }
        }

        func next() -> Lane { all[(turn.wrappingAdd(1, ordering: .relaxed).oldValue & Int.max) % all.count] }
    }

    private final class Lane: Sendable {
        private enum State {
            case closed
            case opening(Task<PostgresPipelineConnection, any Error>)
            case open(PostgresPipelineConnection)
            case shutDown
        }

        private enum Next {
            case ready(PostgresPipelineConnection)
            case wait(Task<PostgresPipelineConnection, any Error>)
            case refuse
        }

        private let state = Mutex(State.closed)
        private let open: Opener

        init(open: @escaping Opener) { self.open = open }

        func connection() async throws -> PostgresPipelineConnection {
            let next: Next = state.withLock { state in
                switch state {
                case .open(let connection) where connection.isUsable: return .ready(connection)
                case .opening(let task): return .wait(task)
                case .shutDown: return .refuse
                case .closed, .open:
                    let task = Task { try await open() }
                    state = .opening(task)
                    return .wait(task)
                }
            }
            switch next {
            case .ready(let connection): return connection
            case .refuse: throw PostgresPipelineError.connectionLost("the store is closed")
            case .wait(let task):
                do {
                    let connection = try await task.value
                    state.withLock { if case .opening(let opening) = $0, opening == task { $0 = .open(connection) } }
                    return connection
                } catch {
                    state.withLock { if case .opening(let opening) = $0, opening == task { $0 = .closed } }
                    throw error
                }
            }
        }

        func close() async {
            let previous = state.withLock { state in
                defer { state = .shutDown }
                return state
            }
            switch previous {
            case .open(let connection): await connection.close()
            case .opening(let task): if let connection = try? await task.value { await connection.close() }
            case .closed, .shutDown: break
            }
        }
    }
}
