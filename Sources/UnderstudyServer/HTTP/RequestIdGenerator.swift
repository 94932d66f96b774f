import Synchronization

/// Unique request ids for `X-AREQUESTID`: a random per-process prefix and a counter, so that ids
/// are unique across restarts and cost no randomness per request.
final class RequestIdGenerator: Sendable {
    private let prefix: String
    private let counter = Atomic<UInt64>(0)

    init() {
        var generator = SystemRandomNumberGenerator()
        let value = generator.next() & 0xFFFF_FFFF
        let hex = String(value, radix: 16)
        prefix = String(repeating: "0", count: 8 - hex.count) + hex
    }

    func next() -> String {
        let number = counter.wrappingAdd(1, ordering: .relaxed).newValue
        return prefix + "x" + String(number)
    }
}
