/// A first-come, first-served lock for async code: holders may suspend while holding it. The SQLite
/// writer connection is shared, so a transaction must not interleave with another task's writes.
actor AsyncLock {
    private var locked = false
    private var waiters: [CheckedContinuation<Void, Never>] = []

    func withLock<T: Sendable>(_ body: @Sendable () async throws -> T) async throws -> T {
        await acquire()
        defer { release() }
        return try await body()
    }

    private func acquire() async {
        if !locked {
            locked = true
            return
        }
        await withCheckedContinuation { waiters.append($0) }
    }

    private func release() {
        if waiters.isEmpty {
            locked = false
        } else {
            // Hand the lock straight to the next waiter; it stays locked.
            waiters.removeFirst().resume()
        }
    }
}
