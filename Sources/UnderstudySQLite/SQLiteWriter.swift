import Dispatch
import Foundation
import Synchronization

/// The one connection that writes, on a thread of its own, with group commit: every write that
/// arrives while a transaction is running is batched into the next one, each in a savepoint of its
/// own so that one failing write does not undo the others. A write's caller is answered only after
/// the transaction that holds it has committed.
final class SQLiteWriter: Sendable {
    /// One write: runs inside the batch's transaction and says whether it succeeded and how to
    /// answer its caller once the batch's commit is known.
    private struct Job: Sendable {
        let work: @Sendable (RawConnection) -> (succeeded: Bool, answer: @Sendable ((any Error)?) -> Void)
    }

    private struct Queue {
        var jobs: [Job] = []
        var stopping = false
    }

    private let queue = Mutex(Queue())
    private let wakeUp = DispatchSemaphore(value: 0)
    private let stopped = DispatchSemaphore(value: 0)

    /// Opens the file and starts the writer thread; `setUp` runs first, on that thread.
    init(path: String, setUp: @escaping @Sendable (RawConnection) throws -> Void) throws {
        let opened = Mutex<Result<Void, any Error>?>(nil)
        let ready = DispatchSemaphore(value: 0)
        let thread = Thread { [self] in
            let connection: RawConnection
            do {
                connection = try RawConnection(path: path)
                do {
                    try setUp(connection)
                } catch {
                    connection.close()
                    throw error
                }
                opened.withLock { $0 = .success(()) }
                ready.signal()
            } catch {
                opened.withLock { $0 = .failure(error) }
                ready.signal()
                stopped.signal()
                return
            }
            run(connection)
            // Fold the WAL back into the database file, so the file is whole on its own.
            try? connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
            connection.close()
            stopped.signal()
        }
        thread.name = "understudy-sqlite-writer"
        thread.start()
        ready.wait()
        if case .failure(let error)? = opened.withLock({ $0 }) { throw error }
    }

    private func run(_ connection: RawConnection) {
        while true {
            wakeUp.wait()
            let (batch, stopping) = queue.withLock { queue in
                defer { queue.jobs.removeAll(keepingCapacity: true) }
                return (queue.jobs, queue.stopping)
            }
            if !batch.isEmpty { Self.commit(batch, on: connection) }
            if stopping && batch.isEmpty { return }
        }
    }

    private static func commit(_ batch: [Job], on connection: RawConnection) {
        do {
            try connection.execute("BEGIN IMMEDIATE")
        } catch {
            for job in batch { job.work(connection).answer(error) }
            return
        }
        var answers: [@Sendable ((any Error)?) -> Void] = []
        answers.reserveCapacity(batch.count)
        for job in batch {
            try? connection.execute("SAVEPOINT write")
            let outcome = job.work(connection)
            if !outcome.succeeded { try? connection.execute("ROLLBACK TO write") }
            try? connection.execute("RELEASE write")
            answers.append(outcome.answer)
        }
        var commitError: (any Error)?
        do {
            try connection.execute("COMMIT")
        } catch {
            commitError = error
            try? connection.execute("ROLLBACK")
        }
        for answer in answers { answer(commitError) }
    }

    /// Runs `body` on the writer thread inside a transaction; returns once it is committed.
    func write<T: Sendable>(_ body: @escaping @Sendable (RawConnection) throws -> T) async throws -> T {
        try await withCheckedThrowingContinuation { continuation in
            let job = Job { connection in
                do {
                    let value = try body(connection)
                    return (
                        true,
                        { commitError in
                            if let commitError {
                                continuation.resume(throwing: commitError)
                            } else {
                                continuation.resume(returning: value)
                            }
                        }
                    )
                } catch {
                    return (false, { _ in continuation.resume(throwing: error) })
                }
            }
            let accepted = queue.withLock { queue in
                guard !queue.stopping else { return false }
                queue.jobs.append(job)
                return true
            }
            if accepted {
                wakeUp.signal()
            } else {
                continuation.resume(throwing: SQLiteFailure(code: 21, message: "the database is closed"))
            }
        }
    }

    /// Lets the queued writes finish, checkpoints the WAL, then closes the connection.
    func close() async {
        queue.withLock { $0.stopping = true }
        wakeUp.signal()
        await withCheckedContinuation { (done: CheckedContinuation<Void, Never>) in
            DispatchQueue.global().async { [stopped] in
                stopped.wait()
                done.resume()
            }
        }
    }
}
