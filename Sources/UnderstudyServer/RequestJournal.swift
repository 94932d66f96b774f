import Foundation
import Synchronization
import UnderstudyCore

/// One request as the journal keeps it: never a credential (the `jwt` query parameter's value is
/// replaced, headers are not kept at all).
struct JournalEntry: Sendable {
    enum Caller: Sendable, Equatable {
        case anonymous
        case user(accountId: String)
        case app(appKey: String, accountId: String)
    }

    let time: Date
    let method: String
    let target: String
    let caller: Caller
    let status: Int
    let explanation: String?
    let duration: Duration
    let requestId: String

    /// Whether the entry passes the journal's filters: a path prefix, a caller (accountId, app key or
    /// `anonymous`), a status (`404`) or a class of statuses (`4xx`).
    func matches(pathPrefix: String?, caller wanted: String?, status wantedStatus: String?) -> Bool {
        if let pathPrefix, !target.hasPrefix(pathPrefix) { return false }
        if let wanted {
            switch caller {
            case .anonymous: if wanted != "anonymous" { return false }
            case .user(let accountId): if wanted != accountId { return false }
            case .app(let appKey, let accountId): if wanted != appKey && wanted != accountId { return false }
            }
        }
        if let wantedStatus {
            let code = String(status)
            if wantedStatus.count == 3, wantedStatus.hasSuffix("xx") {
                if code.first != wantedStatus.first { return false }
            } else if wantedStatus != code {
                return false
            }
        }
        return true
    }

    var json: JSONValue {
        let callerJSON: JSONValue =
            switch caller {
            case .anonymous: .object([JSONMember("type", .string("anonymous"))])
            case .user(let accountId):
                .object([JSONMember("type", .string("user")), JSONMember("accountId", .string(accountId))])
            case .app(let appKey, let accountId):
                .object([
                    JSONMember("type", .string("app")), JSONMember("appKey", .string(appKey)),
                    JSONMember("accountId", .string(accountId)),
                ])
            }
        return .object([
            JSONMember("time", .string(Self.timeFormat.format(time))),
            JSONMember("requestId", .string(requestId)),
            JSONMember("method", .string(method)),
            JSONMember("path", .string(target)),
            JSONMember("caller", callerJSON),
            JSONMember("status", .number(String(status))),
            JSONMember("explanation", explanation.map(JSONValue.string) ?? .null),
            JSONMember("durationMs", .number(ControlPlane.milliseconds(duration))),
        ])
    }

    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The request target with the value of any `jwt` query parameter replaced: a token in a URL is
    /// a credential.
    static func redactingTokens(_ target: Substring) -> String {
        guard let queryStart = target.firstIndex(of: "?") else { return String(target) }
        let parts = target[target.index(after: queryStart)...].split(separator: "&", omittingEmptySubsequences: false)
        let redacted = parts.map { part in part.hasPrefix("jwt=") ? "jwt=[redacted]" : String(part) }
        return String(target[...queryStart]) + redacted.joined(separator: "&")
    }
}

/// The last requests the site answered (`GET /_understudy/requests`), oldest dropped first.
final class RequestJournal: Sendable {
    let capacity: Int
    private let entries: Mutex<[JournalEntry]>
    private let next = Mutex(0)

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        self.entries = Mutex([])
    }

    func record(_ entry: JournalEntry) {
        guard capacity > 0 else { return }
        entries.withLock { entries in
            if entries.count == capacity { entries.removeFirst(max(1, capacity / 8)) }
            entries.append(entry)
        }
    }

    /// Newest first.
    func entries(pathPrefix: String?, caller: String?, status: String?, limit: Int) -> [JournalEntry] {
        entries.withLock { entries in
            Array(
                entries.reversed().lazy.filter { $0.matches(pathPrefix: pathPrefix, caller: caller, status: status) }
                    .prefix(limit))
        }
    }

    func clear() {
        entries.withLock { $0.removeAll() }
    }
}
