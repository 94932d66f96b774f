import Foundation

/// The four lifecycle events Jira sends a Connect app (spec 13).
public enum ConnectLifecycleEvent: String, Sendable, Hashable, CaseIterable {
    case installed, uninstalled, enabled, disabled
}

/// A descriptor's webhook module: Jira posts `event`s to `url`, relative to the app's baseUrl.
public struct ConnectWebhook: Sendable, Hashable {
    public var event: String
    public var url: String
    public init(event: String, url: String) {
        self.event = event
        self.url = url
    }
}

/// The parts of an `atlassian-connect.json` descriptor that installing an app needs (spec 13,
/// step 2), read strictly: every problem is reported with its JSON path, and a descriptor with any
/// problem installs nothing.
public struct ConnectDescriptor: Sendable, Hashable {
    public var key: String
    /// The descriptor's `name`, or the key when it has none.
    public var name: String
    /// Where the app lives; lifecycle paths and `aud` are relative to it. Without a trailing slash.
    public var baseUrl: String
    /// `jwt` or `none`, lower case.
    public var authentication: String
    /// The Connect scopes that the permission gate knows; `NONE`, `ACT_AS_USER` and the like are
    /// accepted and not kept.
    public var scopes: [ConnectScope]
    /// Each declared lifecycle event's path, relative to `baseUrl`.
    public var lifecycle: [ConnectLifecycleEvent: String]
    public var apiVersion: Int
    public var apiMigrations: [String: Bool]
    /// The descriptor's `modules.webhooks`, each an event and a path relative to `baseUrl`.
    public var webhooks: [ConnectWebhook]
    /// The descriptor's `modules.generalPages` and `modules.adminPages` (spec 16).
    public var pages: [ConnectPage]

    public static let keyPattern = "^[a-zA-Z0-9-._]+$"
    public static let maximumKeyLength = 64
    public static let maximumBaseUrlLength = 200
    /// Every scope name of the descriptor schema, upper case.
    public static let scopeNames: Set<String> = [
        "NONE", "READ", "WRITE", "DELETE", "PROJECT_ADMIN", "SPACE_ADMIN", "ADMIN", "ACT_AS_USER",
        "ACCESS_EMAIL_ADDRESSES",
    ]

    /// One thing wrong with a descriptor, at a JSON path (`$.key`, `$.lifecycle.installed`).
    public struct Problem: Sendable, Hashable, CustomStringConvertible {
        public let path: String
        public let problem: String
        public var description: String { "\(path): \(problem)" }
    }

    /// Everything wrong with a descriptor, in document order.
    public struct Invalid: Error, Sendable, Hashable, CustomStringConvertible {
        public let problems: [Problem]
        public var description: String { problems.map(\.description).joined(separator: "; ") }
    }

    /// Reads a parsed descriptor; throws every problem found, not only the first.
    public static func read(_ value: JSONValue) throws(Invalid) -> ConnectDescriptor {
        var problems: [Problem] = []
        func problem(_ path: String, _ text: String) { problems.append(Problem(path: path, problem: text)) }
        guard case .object(let members) = value else {
            throw Invalid(problems: [
                Problem(path: "$", problem: "a descriptor is a JSON object, found \(value.kindName)")
            ])
        }
        let fields = Dictionary(members.map { ($0.name, $0.value) }, uniquingKeysWith: { first, _ in first })

        var key = ""
        switch fields["key"] {
        case nil: problem("$.key", "required (the app key, for example \"com.example.tour\")")
        case .string(let text)?:
            key = text
            if text.isEmpty || !text.unicodeScalars.allSatisfy(isKeyCharacter) {
                problem("$.key", "\(quoted(text)) does not match \(keyPattern)")
            } else if text.count > maximumKeyLength {
                problem("$.key", "\(text.count) characters, at most \(maximumKeyLength) are allowed")
            }
        case let other?: problem("$.key", "must be a string, found \(other.kindName)")
        }

        var baseUrl = ""
        switch fields["baseUrl"] {
        case nil: problem("$.baseUrl", "required (where the app is served, for example \"https://tour.example.com\")")
        case .string(let text)?:
            // Trailing slashes go byte by byte: a Character may join a slash to what precedes it.
            var bytes = Array(text.utf8)
            while bytes.last == UInt8(ascii: "/") { bytes.removeLast() }
            baseUrl = String(decoding: bytes, as: UTF8.self)
            let lower = baseUrl.lowercased()
            let scheme = lower.hasPrefix("https://") ? "https://" : lower.hasPrefix("http://") ? "http://" : nil
            // A host must follow the scheme: "http:////" is not a URL, whatever its slashes.
            let hasHost = scheme.map { bytes.dropFirst($0.utf8.count).first.map { $0 != UInt8(ascii: "/") } ?? false }
            if hasHost != true {
                problem("$.baseUrl", "\(quoted(text)) is not an http or https URL")
            } else if text.count > maximumBaseUrlLength {
                problem("$.baseUrl", "\(text.count) characters, at most \(maximumBaseUrlLength) are allowed")
            } else if text.contains(where: { $0.isWhitespace }) || text.contains("?") || text.contains("#") {
                problem("$.baseUrl", "\(quoted(text)) must not contain spaces, a query or a fragment")
            }
        case let other?: problem("$.baseUrl", "must be a string, found \(other.kindName)")
        }

        var authentication = "jwt"
        switch fields["authentication"] {
        case nil: problem("$.authentication", "required: {\"type\": \"jwt\"} (or \"none\")")
        case .object(let authenticationMembers)?:
            switch authenticationMembers.first(where: { $0.name == "type" })?.value {
            case nil: problem("$.authentication.type", "required: \"jwt\" or \"none\"")
            case .string(let type)? where ["jwt", "none"].contains(type.lowercased()):
                authentication = type.lowercased()
            case .string(let type)?: problem("$.authentication.type", "\(quoted(type)) is not one of jwt, none")
            case let other?: problem("$.authentication.type", "must be a string, found \(other.kindName)")
            }
        case let other?: problem("$.authentication", "must be an object, found \(other.kindName)")
        }

        var scopes: [ConnectScope] = []
        switch fields["scopes"] {
        case nil, .null?: break
        case .array(let elements)?:
            for (index, element) in elements.enumerated() {
                guard case .string(let name) = element else {
                    problem("$.scopes[\(index)]", "must be a string, found \(element.kindName)")
                    continue
                }
                let upper = name.uppercased()
                guard scopeNames.contains(upper) else {
                    problem(
                        "$.scopes[\(index)]",
                        "\(quoted(name)) is not a Connect scope (\(scopeNames.sorted().joined(separator: ", ")))")
                    continue
                }
                if let scope = ConnectScope(rawValue: upper), !scopes.contains(scope) { scopes.append(scope) }
            }
        case let other?: problem("$.scopes", "must be an array of scope names, found \(other.kindName)")
        }

        var lifecycle: [ConnectLifecycleEvent: String] = [:]
        switch fields["lifecycle"] {
        case nil, .null?: break
        case .object(let lifecycleMembers)?:
            for member in lifecycleMembers {
                let path = "$.lifecycle.\(member.name)"
                guard let event = ConnectLifecycleEvent(rawValue: member.name) else {
                    problem(path, "not a lifecycle event (installed, uninstalled, enabled, disabled)")
                    continue
                }
                guard case .string(let url) = member.value else {
                    problem(path, "must be a string, found \(member.value.kindName)")
                    continue
                }
                // Byte checks, not Character ones: a combining mark after the slash must not hide it.
                if url.isEmpty || url.contains("://") || url.utf8.starts(with: "//".utf8) {
                    problem(path, "\(quoted(url)) must be a path relative to baseUrl, such as \"/\(event.rawValue)\"")
                } else if url.contains(where: { $0.isWhitespace || $0 == "#" }) {
                    problem(path, "\(quoted(url)) must not contain spaces or a fragment")
                } else {
                    lifecycle[event] = url.utf8.first == UInt8(ascii: "/") ? url : "/" + url
                }
            }
        case let other?: problem("$.lifecycle", "must be an object, found \(other.kindName)")
        }

        var apiVersion = 1
        switch fields["apiVersion"] {
        case nil, .null?: break
        case .number(let text)? where Int(text) != nil: apiVersion = Int(text) ?? 1
        case let other?: problem("$.apiVersion", "must be an integer, found \(other.kindName) \(other.jsonText)")
        }

        var apiMigrations: [String: Bool] = [:]
        switch fields["apiMigrations"] {
        case nil, .null?: break
        case .object(let migrationMembers)?:
            for member in migrationMembers {
                guard case .bool(let flag) = member.value else {
                    problem("$.apiMigrations.\(member.name)", "must be a boolean, found \(member.value.kindName)")
                    continue
                }
                apiMigrations[member.name] = flag
            }
        case let other?: problem("$.apiMigrations", "must be an object of booleans, found \(other.kindName)")
        }

        var webhooks: [ConnectWebhook] = []
        if case .object(let modules)? = fields["modules"],
            let entries = modules.first(where: { $0.name == "webhooks" })?.value
        {
            switch entries {
            case .null: break
            case .array(let elements):
                for (index, element) in elements.enumerated() {
                    let path = "$.modules.webhooks[\(index)]"
                    guard case .object(let webhookMembers) = element else {
                        problem(path, "must be an object with event and url, found \(element.kindName)")
                        continue
                    }
                    let event = webhookMembers.first { $0.name == "event" }?.value
                    let url = webhookMembers.first { $0.name == "url" }?.value
                    guard case .string(let eventName)? = event, !eventName.isEmpty else {
                        problem("\(path).event", "required: the event's name, such as \"user_created\"")
                        continue
                    }
                    guard case .string(let urlText)? = url, !urlText.isEmpty else {
                        problem("\(path).url", "required: a path relative to baseUrl, such as \"/webhooks/user\"")
                        continue
                    }
                    if urlText.contains("://") || urlText.utf8.starts(with: "//".utf8)
                        || urlText.contains(where: \.isWhitespace)
                    {
                        problem("\(path).url", "\(quoted(urlText)) must be a path relative to baseUrl")
                        continue
                    }
                    webhooks.append(
                        ConnectWebhook(
                            event: eventName, url: urlText.utf8.first == UInt8(ascii: "/") ? urlText : "/" + urlText))
                }
            default: problem("$.modules.webhooks", "must be an array, found \(entries.kindName)")
            }
        }

        var pages: [ConnectPage] = []
        if case .object(let modules)? = fields["modules"] {
            pages = ConnectPage.read(modules: modules, problem: problem)
        }

        var name = key
        switch fields["name"] {
        case nil, .null?: break
        case .string(let text)? where !text.trimmingCharacters(in: .whitespaces).isEmpty:
            if text.count > 80 { problem("$.name", "\(text.count) characters, at most 80 are allowed") }
            name = text
        case .string?: break
        case let other?: problem("$.name", "must be a string, found \(other.kindName)")
        }

        guard problems.isEmpty else { throw Invalid(problems: problems) }
        return ConnectDescriptor(
            key: key, name: name, baseUrl: baseUrl, authentication: authentication, scopes: scopes,
            lifecycle: lifecycle, apiVersion: apiVersion, apiMigrations: apiMigrations, webhooks: webhooks,
            pages: pages)
    }

    public init(
        key: String, name: String, baseUrl: String, authentication: String = "jwt", scopes: [ConnectScope],
        lifecycle: [ConnectLifecycleEvent: String], apiVersion: Int = 1, apiMigrations: [String: Bool] = [:],
        webhooks: [ConnectWebhook] = [], pages: [ConnectPage] = []
    ) {
        self.webhooks = webhooks
        self.pages = pages
        self.key = key
        self.name = name
        self.baseUrl = baseUrl
        self.authentication = authentication
        self.scopes = scopes
        self.lifecycle = lifecycle
        self.apiVersion = apiVersion
        self.apiMigrations = apiMigrations
    }

    private static func isKeyCharacter(_ scalar: Unicode.Scalar) -> Bool {
        switch scalar {
        case "a"..."z", "A"..."Z", "0"..."9", "-", ".", "_": true
        default: false
        }
    }

    private static func quoted(_ text: String) -> String {
        var output = ""
        JSONValue.writeString(text.count > 100 ? String(text.prefix(100)) + "…" : text, to: &output)
        return output
    }
}
