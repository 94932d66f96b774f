import Foundation
import UnderstudyAuth
import UnderstudyCore

/// Jira's side of a Connect install (spec 13): fetches and checks the descriptor, creates or
/// renews the installation, calls `installed` and `enabled` signed as Jira signs them, and on
/// uninstall `disabled` and `uninstalled`. Every call made is in the result and the journal.
struct ConnectInstaller: Sendable {
    let store: any SiteStore
    let address: SiteAddress
    let journal: RequestJournal
    let now: @Sendable () -> Date
    let caller = AppCaller()
    static let serverVersion = "100000"
    static let pluginsVersion = "1001.0.0"

    /// What to install and how.
    struct Order: Sendable {
        var descriptorUrl: String
        var signing: ConnectInstallation.Signing = .signed
        var tamper: ConnectLifecycleTamper?
        /// The administrator who installs (`sub`); `nil`: the site's first administrator by accountId.
        var installedBy: String?
    }

    /// The key pair that signs installs, made (and kept in the database) when there is none yet.
    func installKey() async throws -> ConnectInstallKey {
        if let key = try await store.connect.currentInstallKey() { return key }
        return try await store.connect.addInstallKeyIfNone(try ConnectLifecycleJWT.makeInstallKey(now: now()))
    }

    func install(_ order: Order) async throws -> InstallResult {
        var result = InstallResult(kind: .install, descriptorUrl: order.descriptorUrl, tamper: order.tamper)
        let descriptor: ConnectDescriptor
        switch await readDescriptor(order.descriptorUrl) {
        case .failure(let problem):
            result.outcome = .rejected
            result.problem = problem.message
            return result
        case .success(let read): descriptor = read
        }
        result.appKey = descriptor.key
        result.baseUrl = descriptor.baseUrl
        if let other = try await store.connect.installedApps().first(where: {
            $0.key != descriptor.key && $0.installation?.baseUrl == descriptor.baseUrl
                && $0.installation?.state != .uninstalled
        }) {
            result.outcome = .rejected
            result.problem =
                "$.baseUrl: \(descriptor.baseUrl) is the baseUrl of app \(other.key), already installed; each app needs its own baseUrl"
            return result
        }

        let existing = try await store.app(key: descriptor.key)
        let subject = try await administrator(order.installedBy)
        let sharedSecret = APITokens.randomBase64URL(byteCount: 32)
        var installation = ConnectInstallation(
            descriptorUrl: order.descriptorUrl, baseUrl: descriptor.baseUrl, authentication: descriptor.authentication,
            lifecycle: descriptor.lifecycle, signing: order.signing,
            state: .incomplete(reason: "the installed call has not been answered yet"), installedBy: subject,
            webhooks: descriptor.webhooks, pages: descriptor.pages)
        var app = ConnectApp(
            key: descriptor.key, name: descriptor.name,
            clientKey: existing?.clientKey ?? UUID().uuidString.lowercased(), sharedSecret: sharedSecret,
            scopes: descriptor.scopes, accountId: existing?.accountId ?? AccountIds.generate(),
            installation: installation)
        let appUser =
            try await store.user(accountId: app.accountId)
            ?? User(
                accountId: app.accountId, accountType: .app, emailAddress: nil, displayName: descriptor.name,
                groups: ConnectApp.defaultGroups)
        if installation.lifecycle[.installed] == nil, order.tamper == nil { installation.state = .installed }
        app.installation = installation
        try await store.load(Site(apps: [app], appUsers: [appUser]))
        result.clientKey = app.clientKey
        result.signing = order.signing

        let installationId = try await store.forge.forgeApps().first { $0.connectKey == app.key }?.installationId
        if let path = installation.lifecycle[.installed] {
            let signer: ConnectLifecycleJWT.Signer?
            switch order.signing {
            case .signed: signer = .installKey(try await installKey())
            case .legacy: signer = existing.map { .sharedSecret($0.sharedSecret) }
            }
            let call = try await send(
                .installed, to: app, path: path, signer: installation.authentication == "none" ? nil : signer,
                tamper: order.tamper, sharedSecret: sharedSecret, installationId: installationId)
            result.calls.append(call)
            if let tamper = order.tamper {
                let refused = call.status.map { (400..<500).contains($0) } ?? false
                result.outcome = .tampered(appRefused: refused)
                installation.state = .incomplete(
                    reason: "the installed call was tampered with on purpose (\(tamper.rawValue): \(tamper.summary))")
                result.problem =
                    refused
                    ? "The app refused the tampered installed call (\(tamper.rawValue)) with \(call.status ?? 0), as it should."
                    : "The app accepted an installed call it should have refused (\(tamper.rawValue): \(tamper.summary)); \(call.failure ?? "it answered \(call.status ?? 0)"). Its installed handler does not check the JWT as Jira requires."
            } else if call.acknowledged {
                installation.state = .installed
            } else {
                let reason =
                    call.failure ?? "the app answered \(call.status ?? 0) to installed (200 or 204 is required)"
                installation.state = .incomplete(reason: reason)
                result.outcome = .incomplete
                result.problem = "The install is incomplete: \(reason)."
            }
        } else if let tamper = order.tamper {
            installation.state = .incomplete(
                reason: "the installed call was tampered with on purpose (\(tamper.rawValue))")
            result.outcome = .tampered(appRefused: false)
            result.problem =
                "The descriptor declares no lifecycle.installed, so there was no call to tamper with."
        }
        if installation.state != .installed, let existing, !(result.calls.first?.acknowledged ?? false) {
            // The app did not take the new secret: it still holds the one it had, and so does the site.
            app.sharedSecret = existing.sharedSecret
        }
        app.installation = installation
        try await store.load(Site(apps: [app], appUsers: [appUser]))
        if installation.state == .installed {
            result.outcome = .installed
            if let path = installation.lifecycle[.enabled] {
                result.calls.append(
                    try await send(
                        .enabled, to: app, path: path,
                        signer: installation.authentication == "none" ? nil : .sharedSecret(sharedSecret),
                        installationId: installationId))
            }
        }
        return result
    }

    /// Calls `disabled` and `uninstalled` (when declared) and marks the installation uninstalled;
    /// `nil` when no app has the key.
    func uninstall(appKey: String) async throws -> InstallResult? {
        guard var app = try await store.app(key: appKey) else { return nil }
        var result = InstallResult(kind: .uninstall, descriptorUrl: app.installation?.descriptorUrl, tamper: nil)
        result.appKey = app.key
        result.clientKey = app.clientKey
        result.outcome = .uninstalled
        guard var installation = app.installation else {
            result.outcome = .rejected
            result.problem =
                "App \(appKey) was added by hand (understudy app add or a site file), not installed from a descriptor: there is no installation to uninstall."
            return result
        }
        result.baseUrl = installation.baseUrl
        result.signing = installation.signing
        let installationId = try await store.forge.forgeApps().first { $0.connectKey == app.key }?.installationId
        let hmac: ConnectLifecycleJWT.Signer? =
            installation.authentication == "none" ? nil : .sharedSecret(app.sharedSecret)
        if let path = installation.lifecycle[.disabled] {
            result.calls.append(
                try await send(.disabled, to: app, path: path, signer: hmac, installationId: installationId))
        }
        if let path = installation.lifecycle[.uninstalled] {
            let signer: ConnectLifecycleJWT.Signer? =
                installation.signing == .signed && installation.authentication != "none"
                ? .installKey(try await installKey()) : hmac
            result.calls.append(
                try await send(.uninstalled, to: app, path: path, signer: signer, installationId: installationId))
        }
        installation.state = .uninstalled
        app.installation = installation
        try await store.load(Site(apps: [app]))
        return result
    }

    /// The descriptor at `url`, or why it cannot be installed.
    private func readDescriptor(_ url: String) async -> Result<ConnectDescriptor, InstallProblem> {
        let answer: AppCaller.Answer
        switch await caller.fetchDescriptor(url) {
        case .failure(let failure):
            return .failure(InstallProblem("The descriptor could not be fetched: \(failure.reason)."))
        case .success(let fetched): answer = fetched
        }
        guard answer.status == 200 else {
            return .failure(
                InstallProblem(
                    "The descriptor could not be fetched: GET \(url) answered \(answer.status) (200 is required)."))
        }
        let json: JSONValue
        do {
            json = try JSONParser.parse(answer.body)
        } catch {
            return .failure(
                InstallProblem("The descriptor at \(url) is not JSON: \(error.reason) at byte \(error.offset)."))
        }
        do {
            return .success(try ConnectDescriptor.read(json))
        } catch {
            return .failure(InstallProblem("The descriptor is not valid: \(error.description)."))
        }
    }

    /// The accountId named in `sub`: the given administrator, or the site's first by accountId.
    private func administrator(_ given: String?) async throws -> String {
        if let given { return given }
        let site = try await store.snapshot()
        return site.users.filter { $0.active && GlobalPermissions(groups: $0.groups).contains(.administerJira) }
            .map(\.accountId).min() ?? ""
    }

    /// One lifecycle call: body, token, the app's answer, a journal entry.
    private func send(
        _ event: ConnectLifecycleEvent, to app: ConnectApp, path: String, signer: ConnectLifecycleJWT.Signer?,
        tamper: ConnectLifecycleTamper? = nil, sharedSecret: String? = nil, installationId: String?
    ) async throws -> LifecycleCall {
        let baseUrl = app.installation?.baseUrl ?? ""
        let url = baseUrl + path
        let token = try signer.flatMap { signer in
            try ConnectLifecycleJWT.token(
                for: ConnectLifecycleJWT.Call(
                    clientKey: app.clientKey, appBaseUrl: baseUrl, lifecyclePath: path,
                    subject: app.installation?.installedBy ?? ""),
                signer: signer, now: now(), tamper: tamper, sharedSecret: sharedSecret)
        }
        let body = lifecycleBody(event, app: app, sharedSecret: sharedSecret, installationId: installationId)
        var call = LifecycleCall(
            event: event, url: url, authorization: Self.describe(signer, token: token, tamper: tamper))
        switch await caller.postLifecycle(url, token: token, body: Array(body.jsonText.utf8)) {
        case .success(let answer):
            call.status = answer.status
            call.duration = answer.duration
            call.body = answer.bodyExcerpt
        case .failure(let failure):
            call.duration = failure.duration
            call.failure = failure.reason
        }
        recordCall(
            to: url, of: app, at: now(), status: call.status ?? 0, explanation: call.explanation,
            duration: call.duration,
            kind: "lifecycle-\(event.rawValue)")
        return call
    }

    /// Journals a call Understudy made to an app (a lifecycle call or a webhook) as Jira's side.
    func recordCall(
        to url: String, of app: ConnectApp, at time: Date, status: Int, explanation: String?, duration: Duration,
        kind: String
    ) {
        journal.record(
            JournalEntry(
                time: time, method: "POST", target: Substring(url), caller: .lifecycle(appKey: app.key),
                status: status, explanation: explanation, duration: duration,
                requestId: "\(kind)-\(UUID().uuidString.prefix(8).lowercased())"))
    }

    private static func describe(_ signer: ConnectLifecycleJWT.Signer?, token: String?, tamper: ConnectLifecycleTamper?)
        -> String
    {
        guard token != nil else { return "none (unsigned)" }
        var text: String
        switch tamper == .symmetric ? .sharedSecret("") : signer {
        case .installKey(let key)?: text = "JWT RS256, kid \(key.kid)"
        case .sharedSecret?: text = "JWT HS256 with the shared secret"
        case nil: text = "none"
        }
        if let tamper { text += ", tampered: \(tamper.summary)" }
        return text
    }

    /// The body Jira sends (spec 13.1): `sharedSecret` on `installed` only.
    private func lifecycleBody(
        _ event: ConnectLifecycleEvent, app: ConnectApp, sharedSecret: String?, installationId: String?
    ) -> JSONValue {
        let site = address.baseURL
        var members = [
            JSONMember("key", .string(app.key)), JSONMember("clientKey", .string(app.clientKey)),
        ]
        if event == .installed, let sharedSecret, app.installation?.authentication != "none" {
            members.append(JSONMember("sharedSecret", .string(sharedSecret)))
        }
        members += [
            JSONMember("serverVersion", .string(Self.serverVersion)),
            JSONMember("pluginsVersion", .string(Self.pluginsVersion)), JSONMember("baseUrl", .string(site)),
            JSONMember("displayUrl", .string(site)), JSONMember("productType", .string("jira")),
            JSONMember("description", .string("Atlassian Jira at \(site)")),
        ]
        if let installationId { members.append(JSONMember("installationId", .string(installationId))) }
        members.append(JSONMember("eventType", .string(event.rawValue)))
        return .object(members)
    }
}

/// Why an install could not start.
struct InstallProblem: Error, Sendable {
    let message: String
    init(_ message: String) { self.message = message }
}

/// One lifecycle call Understudy made and what came of it.
struct LifecycleCall: Sendable {
    let event: ConnectLifecycleEvent
    let url: String
    /// How the call was signed, in words (`JWT RS256, kid …`).
    let authorization: String
    var status: Int?
    var duration: Duration = .zero
    /// The first 500 bytes of the app's answer.
    var body: String?
    /// Why there was no answer (refused, timed out).
    var failure: String?

    init(event: ConnectLifecycleEvent, url: String, authorization: String) {
        self.event = event
        self.url = url
        self.authorization = authorization
    }

    /// Whether the app answered `200` or `204`, as `installed` requires.
    var acknowledged: Bool { status == 200 || status == 204 }

    /// The journal's explanation: what went wrong, if anything.
    var explanation: String? {
        if let failure { return "\(event.rawValue): \(failure)" }
        if let status, !(200..<300).contains(status) {
            return "\(event.rawValue): the app answered \(status)"
        }
        return nil
    }

    var json: JSONValue {
        var members = [
            JSONMember("event", .string(event.rawValue)), JSONMember("url", .string(url)),
            JSONMember("authorization", .string(authorization)),
            JSONMember("status", status.map { .number(String($0)) } ?? .null),
            JSONMember("durationMs", .number(ControlPlane.milliseconds(duration))),
        ]
        if let body, !body.isEmpty { members.append(JSONMember("body", .string(body))) }
        if let explanation { members.append(JSONMember("explanation", .string(explanation))) }
        return .object(members)
    }
}

/// The result of an install or uninstall: the control API's answer and the CLI's output.
struct InstallResult: Sendable {
    enum Kind: String, Sendable { case install, uninstall }
    enum Outcome: Sendable, Equatable {
        case installed, uninstalled
        /// The descriptor could not be fetched or is invalid; nothing was installed.
        case rejected
        /// The app refused `installed` or could not be reached.
        case incomplete
        case tampered(appRefused: Bool)
    }

    let kind: Kind
    let descriptorUrl: String?
    let tamper: ConnectLifecycleTamper?
    var outcome: Outcome = .installed
    var appKey: String?
    var clientKey: String?
    var baseUrl: String?
    var signing: ConnectInstallation.Signing?
    var calls: [LifecycleCall] = []
    var problem: String?

    var outcomeName: String {
        switch outcome {
        case .installed: "installed"
        case .uninstalled: "uninstalled"
        case .rejected: "rejected"
        case .incomplete: "incomplete"
        case .tampered: "tampered"
        }
    }

    var json: JSONValue {
        var members = [JSONMember("outcome", .string(outcomeName))]
        if let appKey { members.append(JSONMember("key", .string(appKey))) }
        if let clientKey { members.append(JSONMember("clientKey", .string(clientKey))) }
        if let baseUrl { members.append(JSONMember("baseUrl", .string(baseUrl))) }
        if let descriptorUrl { members.append(JSONMember("descriptorUrl", .string(descriptorUrl))) }
        if let signing { members.append(JSONMember("signing", .string(signing.rawValue))) }
        if let tamper { members.append(JSONMember("tamper", .string(tamper.rawValue))) }
        if case .tampered(let refused) = outcome { members.append(JSONMember("appRefused", .bool(refused))) }
        members.append(JSONMember("calls", .array(calls.map(\.json))))
        if let problem { members.append(JSONMember("problem", .string(problem))) }
        return .object(members)
    }
}
