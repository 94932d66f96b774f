import Synchronization
import UnderstudyCore

/// The site's cloudId and name, read from the store once and kept: every gateway request compares
/// its cloudId. A site without one (a store built in code) gets a generated identity, stored so
/// that it stays. Loading or replacing the site (control API) calls `forget()`.
final class SiteIdentityCache: Sendable {
    private let store: any SiteStore
    private let current = Mutex<Task<SiteIdentity, any Error>?>(nil)

    init(store: any SiteStore) { self.store = store }

    func identity() async throws -> SiteIdentity {
        let task = current.withLock { task in
            if let task { return task }
            let store = self.store
            let made = Task {
                if let stored = try await store.siteIdentity() { return stored }
                let generated = SiteIdentity.generated()
                try await store.load(Site(identity: generated))
                return generated
            }
            task = made
            return made
        }
        do {
            return try await task.value
        } catch {
            // A failed read (database down) is not remembered: the next request tries again.
            current.withLock { if $0 == task { $0 = nil } }
            throw error
        }
    }

    func forget() { current.withLock { $0 = nil } }
}
