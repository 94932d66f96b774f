import Foundation
import Logging
import PostgresNIO
import Synchronization
import UnderstudyCore

/// Changes made through other servers, as PostgreSQL announces them: every statement that changes
/// users, apps, the site's identity or OAuth grants sends `NOTIFY understudy_changes` in its own
/// transaction (triggers, migration 5), so a server that caches those reads learns of the change
/// when it commits.
extension PostgresSiteStore {
    /// The notification channel the triggers send on.
    public static let changeChannel = "understudy_changes"
    /// The `application_name` of the listening connection (so an operator, or a test, can find it).
    public static let listenerName = "understudy-listen"

    /// What the listener tells its owner.
    public struct ChangeObserver: Sendable {
        /// Another server (or this one) changed cached data.
        public var changed: @Sendable () -> Void
        /// The listening connection is gone: nothing that was cached can be trusted.
        public var lost: @Sendable () -> Void
        /// The listening connection is up (again): everything changed meanwhile is unknown.
        public var listening: @Sendable () -> Void

        public init(
            changed: @escaping @Sendable () -> Void, lost: @escaping @Sendable () -> Void,
            listening: @escaping @Sendable () -> Void
        ) {
            self.changed = changed
            self.lost = lost
            self.listening = listening
        }
    }

    /// This store behind the cache a serving server puts in front of it: users, apps and OAuth
    /// grants from memory, forgotten on every notification and not served while none can be
    /// heard; user properties always from the database. The cache serves from memory once the
    /// listening connection is up.
    public func servingCache() async throws -> CachingSiteStore {
        let cache = try await CachingSiteStore(backing: self, externalChanges: .notified, cachesUserProperties: false)
        watchChanges(
            ChangeObserver(
                changed: { cache.externalChange() }, lost: { cache.notificationsLost() },
                listening: { cache.notificationsResumed() }))
        return cache
    }

    /// Listens on its own connection until the store is closed, reconnecting with a short backoff
    /// when the connection is lost (the observer hears `lost` at once, `listening` once back).
    public func watchChanges(_ observer: ChangeObserver) {
        let location = self.location
        let logger = self.logger
        let task = Task { [self] in
            var failures = 0
            while !Task.isCancelled {
                do {
                    var configuration = location.connectionConfiguration
                    configuration.options.additionalStartupParameters = [("application_name", Self.listenerName)]
                    let connection = try await PostgresConnection.connect(
                        configuration: configuration, id: 2, logger: logger)
                    self.listener.withLock { $0.connection = connection }
                    if !Task.isCancelled {
                        try? await connection.listen(on: Self.changeChannel) { notifications in
                            failures = 0
                            observer.listening()
                            for try await _ in notifications { observer.changed() }
                        }
                    }
                    self.listener.withLock { $0.connection = nil }
                    try? await connection.close()
                } catch {}
                observer.lost()
                guard !Task.isCancelled else { break }
                failures += 1
                try? await Task.sleep(for: .milliseconds(min(50 << min(failures, 6), 2_000)))
            }
        }
        listener.withLock { state in
            state.task?.cancel()
            state.task = task
        }
    }

    /// Stops listening: the task ends, and its connection is closed so that a wait for the next
    /// notification ends too.
    func stopWatching() async {
        let (task, connection) = listener.withLock { state in
            state.task?.cancel()
            return (state.task, state.connection)
        }
        try? await connection?.close()
        await task?.value
    }
}

/// The listening connection and the task that keeps it.
struct ChangeListener: Sendable {
    var task: Task<Void, Never>?
    var connection: PostgresConnection?
}
