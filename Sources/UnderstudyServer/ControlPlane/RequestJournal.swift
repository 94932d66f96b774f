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
        /// Through the gateway with an OAuth 2.0 access token of `clientId`, acting as `accountId`
        /// (empty at the token endpoint until the grant names the user).
        case oauth(clientId: String, accountId: String)
        /// With a token of Forge app `appId`, acting as its app user or as a user.
        case forge(appId: String, accountId: String)
        /// The signed-in user `accountId` in a page of app `app` (a Connect app key or a Forge appId),
        /// calling through `via` (`AP.request` or `@forge/bridge`, spec 16 and 17).
        case page(accountId: String, app: String, via: String)
        /// Understudy itself, playing Jira's side: a lifecycle call to Connect app `appKey` (spec 13).
        case lifecycle(appKey: String)

        init(_ principal: Principal) {
            switch principal.credential {
            case .connectApp(let app): self = .app(appKey: app.key, accountId: principal.accountId)
            case .oauth(let clientId): self = .oauth(clientId: clientId, accountId: principal.accountId)
            case .forge(let app): self = .forge(appId: app.appId, accountId: principal.accountId)
            case .apiToken, .scopedAPIToken: self = .user(accountId: principal.accountId)
            case .connectPage(let app): self = .page(accountId: principal.accountId, app: app.key, via: "AP.request")
            case .forgeBridge(let app):
                self = .page(accountId: principal.accountId, app: app.appId, via: "@forge/bridge")
            }
        }

        /// The account the request acts as, if it is known.
        var accountId: String? {
            switch self {
            case .anonymous, .lifecycle: nil
            case .user(let accountId), .page(let accountId, _, _): accountId
            case .app(_, let accountId), .oauth(_, let accountId), .forge(_, let accountId):
                accountId.isEmpty ? nil : accountId
            }
        }
    }

    let time: Date
    let method: String
    /// The path and query as sent, a `jwt` value redacted.
    let target: Substring
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
            case .oauth(let clientId, let accountId): if wanted != clientId && wanted != accountId { return false }
            case .forge(let appId, let accountId): if wanted != appId && wanted != accountId { return false }
            case .lifecycle(let appKey): if wanted != appKey && wanted != "lifecycle" { return false }
            case .page(let accountId, let app, let via):
                if wanted != accountId && wanted != app && wanted != via { return false }
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
            case .oauth(let clientId, let accountId):
                .object([
                    JSONMember("type", .string("oauth")), JSONMember("clientId", .string(clientId)),
                    JSONMember("accountId", .string(accountId)),
                ])
            case .forge(let appId, let accountId):
                .object([
                    JSONMember("type", .string("forge")), JSONMember("appId", .string(appId)),
                    JSONMember("accountId", .string(accountId)),
                ])
            case .lifecycle(let appKey):
                .object([JSONMember("type", .string("lifecycle")), JSONMember("appKey", .string(appKey))])
            case .page(let accountId, let app, let via):
                .object([
                    JSONMember("type", .string("user")), JSONMember("accountId", .string(accountId)),
                    JSONMember(via == "AP.request" ? "appKey" : "appId", .string(app)), JSONMember("via", .string(via)),
                ])
            }
        return .object([
            JSONMember("time", .string(Self.timeFormat.format(time))),
            JSONMember("requestId", .string(requestId)),
            JSONMember("method", .string(method)),
            JSONMember("path", .string(String(target))),
            JSONMember("caller", callerJSON),
            JSONMember("status", .number(String(status))),
            JSONMember("explanation", explanation.map(JSONValue.string) ?? .null),
            JSONMember("durationMs", .number(ControlPlane.milliseconds(duration))),
        ])
    }

    static let timeFormat = Date.ISO8601FormatStyle(includingFractionalSeconds: true)

    /// The request target with the value of any `jwt` query parameter replaced: a token in a URL is
    /// a credential. A target without one is kept as it is, without a copy.
    static func redactingTokens(_ target: Substring) -> Substring {
        let carriesToken = ASCIIBytes.with(target) { bytes in
            bytes.firstIndex(of: UInt8(ascii: "?")).map { bytes.contains("jwt=", from: $0) } ?? false
        }
        guard carriesToken, let queryStart = target.utf8.firstIndex(of: UInt8(ascii: "?")) else { return target }
        let parts = target[target.index(after: queryStart)...].split(separator: "&", omittingEmptySubsequences: false)
        let redacted = parts.map { part in part.hasPrefix("jwt=") ? "jwt=[redacted]" : String(part) }
        return Substring(String(target[...queryStart]) + redacted.joined(separator: "&"))
    }
}

/// The last requests the site answered (`GET /_understudy/requests`), oldest dropped first.
final class RequestJournal: Sendable {
    let capacity: Int
    private let ring: Mutex<Ring>

    /// Up to `capacity` entries; once full, the next entry takes the place of the oldest, so that
    /// recording costs the same whatever the journal's size.
    private struct Ring {
        var entries: [JournalEntry] = []
        /// Where the oldest entry is once the ring is full (and where the next one goes).
        var oldest = 0

        /// Newest first.
        var newestFirst: [JournalEntry] {
            Array(entries[..<oldest].reversed()) + entries[oldest...].reversed()
        }
    }

    init(capacity: Int) {
        self.capacity = max(0, capacity)
        self.ring = Mutex(Ring())
    }

    func record(_ entry: JournalEntry) {
        guard capacity > 0 else { return }
        ring.withLock { ring in
            if ring.entries.count < capacity {
                ring.entries.append(entry)
            } else {
                ring.entries[ring.oldest] = entry
                ring.oldest = (ring.oldest + 1) % capacity
            }
        }
    }

    /// Newest first.
    func entries(pathPrefix: String?, caller: String?, status: String?, limit: Int) -> [JournalEntry] {
        ring.withLock { ring in
            Array(
                ring.newestFirst.lazy.filter { $0.matches(pathPrefix: pathPrefix, caller: caller, status: status) }
                    .prefix(limit))
        }
    }

    func clear() {
        ring.withLock { $0 = Ring() }
    }
}
