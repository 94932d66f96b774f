import Foundation
import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyAuth
import UnderstudyCore

/// Why a control request was refused; rendered like Jira's errors, with an explanation.
struct ControlRequestError: Error {
    let status: HTTPResponse.Status
    let message: String
    let explanation: String

    static func badRequest(_ message: String) -> Self {
        Self(status: .badRequest, message: message, explanation: message)
    }

    var failure: JiraFailure { JiraFailure(status, message: message, explanation: explanation) }
}

/// The control API for test suites, under `/_understudy/`, apart from Jira's API: it takes only the
/// control token (`Authorization: Bearer T`, or the console's cookie), never Jira credentials.
///
/// | method | path | does |
/// |---|---|---|
/// | POST | `/_understudy/reset` | back to the site as it was at start (the store's saved state) |
/// | GET, PUT | `/_understudy/snapshot` | the whole site as a site file; replace it with one |
/// | GET, DELETE | `/_understudy/requests` | the request journal (filters `path`, `caller`, `status`, `limit`); clear it |
/// | GET, POST, DELETE | `/_understudy/faults` | list, add, remove all fault rules |
/// | DELETE | `/_understudy/faults/{id}` | remove one fault rule |
/// | GET, PUT | `/_understudy/clock` | the clock's offset (`{"offsetSeconds": n}`) |
/// | GET | `/_understudy/console` | the console (HTML); `?token=T` once sets its cookie |
/// | POST | `/_understudy/sessions` | a host-page session for `{"accountId"}` (spec 15), as a cookie |
/// | … | `/_understudy/oauth/…` | OAuth apps and consents (`ControlPlane+OAuth`) |
/// | … | `/_understudy/forge/…` | Forge apps and their tokens (`ControlPlane+Forge`) |
/// | … | `/_understudy/connect/…` | Connect installs from descriptors (`ControlPlane+Connect`) |
final class ControlPlane: Sendable {
    let token: String
    let store: any SiteStore
    let journal: RequestJournal
    let faults = FaultRules()
    let clock: SiteClock
    /// The site's cloudId, forgotten whenever the site is replaced.
    let identity: SiteIdentityCache
    /// Installs and uninstalls Connect apps from their descriptors (spec 13).
    let installer: ConnectInstaller
    /// The host pages' sign-in sessions (spec 15).
    let sessions = SessionRegistry()

    static let cookieName = "understudy_control"
    /// A snapshot may be large; a property value is at most 32 KiB, so this allows big sites.
    static let maximumSnapshotBytes = 64 * 1024 * 1024

    init(token: String, store: any SiteStore, journalCapacity: Int, clock: SiteClock, address: SiteAddress) {
        self.token = token
        self.store = store
        self.journal = RequestJournal(capacity: journalCapacity)
        self.clock = clock
        self.identity = SiteIdentityCache(store: store)
        self.installer = ConnectInstaller(store: store, address: address, journal: journal, now: clock.now)
    }

    /// Answers a request under `/_understudy/` (other than the public OpenAPI document).
    func respond(to request: Request, path: Substring, query: Substring?, builder: ResponseBuilder) async throws
        -> Response
    {
        let parameters = Self.parameters(query)
        let resource = path.dropFirst("/_understudy/".count)
        if resource == "console" || resource == "console/" {
            return try await console(request, parameters: parameters, builder: builder)
        }
        try authorize(request)
        switch (request.method, resource) {
        case (.post, "reset"):
            let started = ContinuousClock.now
            try await store.restoreSavedState()
            identity.forget()
            return builder.json(.ok, Self.timing(ContinuousClock.now - started))
        case (.get, "snapshot"):
            let site = try await store.snapshot()
            return builder.json(.ok, SiteFileEncoder.encode(site))
        case (.put, "snapshot"):
            let body = try await request.body.collect(upTo: Self.maximumSnapshotBytes)
            let site: Site
            do {
                site = try SiteSetup.decoder.decode(body.readableBytesView, file: "the snapshot")
            } catch {
                throw ControlRequestError.badRequest("The snapshot is not a valid site file: \(error.description)")
            }
            let started = ContinuousClock.now
            let userEvents = Set(UserChange.Kind.allCases.map(\.rawValue))
            let wantChanges = site.apps.contains { app in
                app.installation?.webhooks.contains { userEvents.contains($0.event) } ?? false
            }
            let before = wantChanges ? try await store.snapshot().users : []
            try await store.replace(with: site)
            identity.forget()
            if wantChanges {
                let changes = UserChange.between(before, site.users)
                if !changes.isEmpty {
                    // Webhooks are best effort and do not hold up the answer, as on Jira.
                    let installer = self.installer
                    Task { await installer.deliver(changes, to: site.apps) }
                }
            }
            return builder.json(.ok, Self.counts(of: site, elapsed: ContinuousClock.now - started))
        case (.get, "requests"):
            let limit = parameters["limit"].flatMap { Int($0) } ?? journal.capacity
            let entries = journal.entries(
                pathPrefix: parameters["path"], caller: parameters["caller"], status: parameters["status"],
                limit: max(0, limit))
            return builder.json(
                .ok,
                .object([
                    JSONMember("capacity", .number(String(journal.capacity))),
                    JSONMember("requests", .array(entries.map(\.json))),
                ]))
        case (.delete, "requests"):
            journal.clear()
            return builder.empty(.noContent)
        case (.get, "faults"):
            return builder.json(.ok, .object([JSONMember("faults", .array(faults.all.map(\.json)))]))
        case (.post, "faults"):
            let rule = try faults.add(try await Self.json(request))
            return builder.json(.created, rule.json)
        case (.delete, "faults"):
            faults.removeAll()
            return builder.empty(.noContent)
        case (.delete, let rest) where rest.hasPrefix("faults/"):
            let id = String(rest.dropFirst("faults/".count))
            guard faults.remove(id: id) else {
                throw ControlRequestError(
                    status: .notFound, message: "No fault rule has the id '\(id)'.",
                    explanation:
                        "GET /_understudy/faults lists the rules in force; a rule with 'times' is gone once used up.")
            }
            return builder.empty(.noContent)
        case (_, let rest) where rest.hasPrefix("oauth/"):
            return try await oauth(request, resource: rest.dropFirst("oauth/".count), builder: builder)
        case (_, let rest) where rest.hasPrefix("forge/"):
            return try await forge(request, resource: rest.dropFirst("forge/".count), builder: builder)
        case (_, let rest) where rest.hasPrefix("connect/"):
            return try await connect(request, resource: rest.dropFirst("connect/".count), builder: builder)
        case (.post, "sessions"):
            return try await startSession(try await Self.json(request), builder: builder)
        case (.post, "console/open"):
            return try await openAs(request)
        case (.get, "clock"):
            return builder.json(.ok, clockJSON)
        case (.put, "clock"):
            guard case .object(let members) = try await Self.json(request),
                members.count == 1, members[0].name == "offsetSeconds",
                case .number(let text) = members[0].value, let offset = Double(text), abs(offset) <= 10 * 365 * 86_400
            else {
                throw ControlRequestError.badRequest(
                    "The clock takes {\"offsetSeconds\": n}: seconds to add to the real time (negative goes back).")
            }
            clock.offsetSeconds = offset
            return builder.json(.ok, clockJSON)
        default:
            let known = [
                "reset", "snapshot", "requests", "faults", "clock", "console", "oauth", "forge", "connect", "sessions",
            ]
            let name = resource.split(separator: "/").first.map(String.init) ?? ""
            if known.contains(name) {
                throw ControlRequestError(
                    status: .methodNotAllowed, message: "\(request.method.rawValue) is not supported here.",
                    explanation: "See the control API in README.md for the methods of /_understudy/\(name).")
            }
            throw ControlRequestError(
                status: .notFound, message: "The requested resource could not be found.",
                explanation:
                    "The control API has /_understudy/reset, snapshot, requests, faults, clock, console and openapi.json."
            )
        }
    }

    private var clockJSON: JSONValue {
        .object([
            JSONMember("offsetSeconds", .number(String(clock.offsetSeconds))),
            JSONMember("now", .string(JournalEntry.timeFormat.format(clock.now()))),
        ])
    }

    /// The control token, from `Authorization: Bearer` or the console's cookie; Jira's credentials
    /// are refused by name, so nobody mistakes one for the other.
    func authorize(_ request: Request) throws(ControlRequestError) {
        let refusal = { (explanation: String) in
            ControlRequestError(
                status: .unauthorized, message: "The control API needs the control token.", explanation: explanation)
        }
        if let authorization = request.headers[.authorization] {
            let parts = authorization.split(separator: " ", maxSplits: 1)
            guard parts.count == 2, parts[0].lowercased() == "bearer" else {
                throw refusal(
                    "The control API takes only the control token (Authorization: Bearer <token>, printed when serve starts), never Jira credentials such as Basic or JWT."
                )
            }
            guard APITokens.constantTimeEqual(String(parts[1]), token) else {
                throw refusal("The bearer token is not this server's control token (see --control-token).")
            }
            return
        }
        if let cookie = Self.cookie(request), APITokens.constantTimeEqual(cookie, token) { return }
        throw refusal("Send the control token as Authorization: Bearer <token>; serve prints it when it starts.")
    }

    static func cookie(_ request: Request) -> String? { cookie(cookieName, in: request) }

    /// The value of the cookie `name`, if the request carries it.
    static func cookie(_ name: String, in request: Request) -> String? {
        for header in request.headers[values: .cookie] {
            for pair in header.split(separator: ";") {
                let trimmed = pair.drop(while: { $0 == " " })
                if trimmed.hasPrefix(name + "=") { return String(trimmed.dropFirst(name.count + 1)) }
            }
        }
        return nil
    }

    static func parameters(_ query: Substring?) -> [String: String] {
        var parameters: [String: String] = [:]
        for part in (query ?? "").split(separator: "&") {
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = PercentEncoding.decodeLeniently(pair[0], plusIsSpace: true)
            parameters[name] = PercentEncoding.decodeLeniently(pair.count > 1 ? pair[1] : "", plusIsSpace: true)
        }
        return parameters
    }

    static func json(_ request: Request) async throws -> JSONValue {
        let body = try await request.body.collect(upTo: 1024 * 1024)
        do {
            return try JSONParser.parse(body.readableBytesView)
        } catch {
            throw ControlRequestError.badRequest("The body is not valid JSON: \(error.description).")
        }
    }

    static func timing(_ elapsed: Duration) -> JSONValue {
        .object([JSONMember("milliseconds", .number(milliseconds(elapsed)))])
    }

    /// A duration as JSON number text in milliseconds, to the microsecond.
    static func milliseconds(_ duration: Duration) -> String {
        let value = Double(duration.components.seconds) * 1000 + Double(duration.components.attoseconds) / 1e15
        return String(format: "%.3f", value)
    }

    static func counts(of site: Site, elapsed: Duration) -> JSONValue {
        .object([
            JSONMember("users", .number(String(site.users.count))),
            JSONMember("apps", .number(String(site.apps.count))),
            JSONMember("userProperties", .number(String(site.userProperties.count))),
            JSONMember("appProperties", .number(String(site.appProperties.count))),
            JSONMember("milliseconds", .number(milliseconds(elapsed))),
        ])
    }
}
