import Synchronization
import UnderstudyCore

/// The site's cloudId and name, read from the store once and kept: every gateway request compares
/// its cloudId. A site without one (a store built in code) gets a generated identity, stored so
/// that it stays. Loading or replacing the site (control API) calls `forget()`.
final class SiteIdentityCache: Sendable {
    private enum State {
        case unknown
        case reading(Task<SiteIdentity, any Error>)
        case known(SiteIdentity)
    }

    private let store: any SiteStore
    private let state = Mutex<State>(.unknown)

    init(store: any SiteStore) { self.store = store }

    func identity() async throws -> SiteIdentity {
        if let known { return known }
        let task: Task<SiteIdentity, any Error> = state.withLock { state in
            switch state {
            case .known(let identity): return Task { identity }
            case .reading(let task): return task
            case .unknown:
                let store = self.store
                let task = Task {
                    if let stored = try await store.siteIdentity() { return stored }
                    let generated = SiteIdentity.generated()
                    try await store.load(Site(identity: generated))
                    return generated
                }
                state = .reading(task)
                return task
            }
        }
        do {
            let identity = try await task.value
            self.state.withLock { if case .reading(let current) = $0, current == task { $0 = .known(identity) } }
            return identity
        } catch {
            // A failed read (database down) is not remembered: the next request tries again.
            self.state.withLock { if case .reading(let current) = $0, current == task { $0 = .unknown } }
            throw error
        }
    }

    /// The identity when it is already known (every request after the first), without a task.
    private var known: SiteIdentity? {
        state.withLock { if case .known(let identity) = $0 { identity } else { nil } }
    }

    func forget() { state.withLock { $0 = .unknown } }
}
