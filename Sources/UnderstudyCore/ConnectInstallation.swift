/// How a Connect app came to be on the site when it was installed from its descriptor (spec 13):
/// where the descriptor and the app live, how its lifecycle calls are signed, and whether the
/// install completed. Apps added by hand or by a site file have none and are always usable.
public struct ConnectInstallation: Sendable, Hashable {
    /// How `installed` and `uninstalled` are signed (spec 13.2).
    public enum Signing: String, Sendable, Hashable, CaseIterable {
        /// RS256 with the site's install key, as Jira Cloud does since October 2021.
        case signed
        /// For apps that predate signed installs: the first install unsigned, later ones HS256 with
        /// the secret the app held before the call.
        case legacy
    }

    /// Whether the app may call the site.
    public enum State: Sendable, Hashable {
        case installed
        /// The `installed` call did not succeed (or was tampered with on purpose); `reason` says
        /// what happened.
        case incomplete(reason: String)
        /// Uninstalled; its properties and shared secret stay for a later re-install.
        case uninstalled
    }

    public var descriptorUrl: String
    /// The descriptor's baseUrl, without a trailing slash.
    public var baseUrl: String
    /// `jwt` or `none`.
    public var authentication: String
    public var lifecycle: [ConnectLifecycleEvent: String]
    public var signing: Signing
    public var state: State
    /// The administrator the lifecycle calls name in `sub`.
    public var installedBy: String
    /// The descriptor's webhooks (spec 14 sends the user events).
    public var webhooks: [ConnectWebhook]
    /// The descriptor's general and admin pages (spec 16).
    public var pages: [ConnectPage]

    public init(
        descriptorUrl: String, baseUrl: String, authentication: String = "jwt",
        lifecycle: [ConnectLifecycleEvent: String], signing: Signing, state: State, installedBy: String,
        webhooks: [ConnectWebhook] = [], pages: [ConnectPage] = []
    ) {
        self.webhooks = webhooks
        self.pages = pages
        self.descriptorUrl = descriptorUrl
        self.baseUrl = baseUrl
        self.authentication = authentication
        self.lifecycle = lifecycle
        self.signing = signing
        self.state = state
        self.installedBy = installedBy
    }

    /// The URL a lifecycle event is sent to, if the descriptor declares it.
    public func url(of event: ConnectLifecycleEvent) -> String? {
        lifecycle[event].map { baseUrl + $0 }
    }

    /// The form stores and site files keep.
    public var json: JSONValue {
        var members = [
            JSONMember("descriptorUrl", .string(descriptorUrl)), JSONMember("baseUrl", .string(baseUrl)),
            JSONMember("authentication", .string(authentication)),
            JSONMember(
                "lifecycle",
                .object(
                    ConnectLifecycleEvent.allCases.compactMap { event in
                        lifecycle[event].map { JSONMember(event.rawValue, .string($0)) }
                    })),
            JSONMember("signing", .string(signing.rawValue)),
        ]
        switch state {
        case .installed: members.append(JSONMember("state", .string("installed")))
        case .uninstalled: members.append(JSONMember("state", .string("uninstalled")))
        case .incomplete(let reason):
            members.append(JSONMember("state", .string("incomplete")))
            members.append(JSONMember("problem", .string(reason)))
        }
        members.append(JSONMember("installedBy", .string(installedBy)))
        if !webhooks.isEmpty {
            members.append(
                JSONMember(
                    "webhooks",
                    .array(
                        webhooks.map {
                            .object([JSONMember("event", .string($0.event)), JSONMember("url", .string($0.url))])
                        })))
        }
        if !pages.isEmpty { members.append(JSONMember("pages", .array(pages.map(\.json)))) }
        return .object(members)
    }

    /// The page module with this key, if the descriptor declares one.
    public func page(key: String) -> ConnectPage? { pages.first { $0.key == key } }

    /// Reads `json`'s form back; `nil` when it is not that form.
    public init?(json: JSONValue) {
        guard case .object(let members) = json else { return nil }
        var fields: [String: JSONValue] = [:]
        for member in members { fields[member.name] = member.value }
        guard case .string(let descriptorUrl)? = fields["descriptorUrl"],
            case .string(let baseUrl)? = fields["baseUrl"],
            case .string(let signingName)? = fields["signing"], let signing = Signing(rawValue: signingName),
            case .string(let stateName)? = fields["state"],
            case .string(let installedBy)? = fields["installedBy"]
        else { return nil }
        var lifecycle: [ConnectLifecycleEvent: String] = [:]
        if case .object(let events)? = fields["lifecycle"] {
            for event in events {
                if let name = ConnectLifecycleEvent(rawValue: event.name), case .string(let path) = event.value {
                    lifecycle[name] = path
                }
            }
        }
        let state: State
        switch stateName {
        case "installed": state = .installed
        case "uninstalled": state = .uninstalled
        case "incomplete":
            guard case .string(let reason)? = fields["problem"] else { return nil }
            state = .incomplete(reason: reason)
        default: return nil
        }
        var authentication = "jwt"
        if case .string(let given)? = fields["authentication"] { authentication = given }
        var webhooks: [ConnectWebhook] = []
        if case .array(let entries)? = fields["webhooks"] {
            for case .object(let entry) in entries {
                guard case .string(let event)? = entry.first(where: { $0.name == "event" })?.value,
                    case .string(let url)? = entry.first(where: { $0.name == "url" })?.value
                else { return nil }
                webhooks.append(ConnectWebhook(event: event, url: url))
            }
        }
        var pages: [ConnectPage] = []
        if case .array(let entries)? = fields["pages"] {
            for entry in entries {
                guard let page = ConnectPage(json: entry) else { return nil }
                pages.append(page)
            }
        }
        self.init(
            descriptorUrl: descriptorUrl, baseUrl: baseUrl, authentication: authentication, lifecycle: lifecycle,
            signing: signing, state: state, installedBy: installedBy, webhooks: webhooks, pages: pages)
    }
}

extension ConnectApp {
    /// Why the app may not call the site now (its install is incomplete, or it was uninstalled), or
    /// `nil` when it may.
    public var unusableBecause: String? {
        switch installation?.state {
        case nil, .installed?: nil
        case .incomplete(let reason)?:
            "the install of app \(key) is incomplete: \(reason). Fix the app's installed handler and install it again."
        case .uninstalled?:
            "app \(key) was uninstalled from this site; install it again (understudy app install, or POST /_understudy/connect/installations)."
        }
    }
}

/// A deliberately wrong signature on the `installed` call (spec 13.3), so that an app's tests can
/// prove its handler refuses it. A tampered install never makes the app usable.
public enum ConnectLifecycleTamper: String, Sendable, Hashable, CaseIterable {
    /// `exp` fifteen minutes in the past.
    case expired
    /// `aud` names another app's baseUrl.
    case wrongAudience = "wrong-audience"
    /// `qsh` is the hash of another request (`GET` instead of `POST`).
    case wrongQueryStringHash = "wrong-qsh"
    /// The header's `kid` is one the key URL answers `404` for.
    case unknownKid = "unknown-kid"
    /// `iss` is not the body's clientKey.
    case wrongIssuer = "wrong-issuer"
    /// HS256 with the new shared secret where RS256 is due.
    case symmetric
    /// No `Authorization` header at all.
    case unsigned
    /// `qsh` is the literal `context-qsh` of a browser's context token (the lifecycle CVE of 2021).
    case contextQueryStringHash = "context-qsh"

    /// What the tampering does, as a result explains it.
    public var summary: String {
        switch self {
        case .expired: "exp is 15 minutes in the past"
        case .wrongAudience: "aud names another app's baseUrl"
        case .wrongQueryStringHash: "qsh is the hash of GET instead of POST"
        case .unknownKid: "kid names no key (the key URL answers 404)"
        case .wrongIssuer: "iss is not the body's clientKey"
        case .symmetric: "HS256 with the shared secret instead of RS256"
        case .unsigned: "no Authorization header"
        case .contextQueryStringHash: "qsh is \"context-qsh\", as on a browser's context token"
        }
    }
}
