import Foundation
import Synchronization

/// The site's clock: the real time (or a test's) plus an offset set through
/// `PUT /_understudy/clock`, so JWT expiry can be tested without waiting.
final class SiteClock: Sendable {
    private let base: @Sendable () -> Date
    private let offset = Mutex<TimeInterval>(0)

    init(base: @escaping @Sendable () -> Date) {
        self.base = base
    }

    var offsetSeconds: TimeInterval {
        get { offset.withLock { $0 } }
        set { offset.withLock { $0 = newValue } }
    }

    func now() -> Date { base().addingTimeInterval(offsetSeconds) }
}
