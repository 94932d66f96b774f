import Foundation

/// A problem in a site file: which file, where in it (a JSON path such as `$.users[1].groups`), and
/// what is wrong. Nothing from a file with a problem is loaded.
public struct SiteFileError: Error, Sendable, Equatable, CustomStringConvertible {
    public var file: String
    public var path: String
    public var problem: String

    public init(file: String, path: String, problem: String) {
        self.file = file
        self.path = path
        self.problem = problem
    }

    public var description: String { "\(file): \(path): \(problem)" }
}

/// Reads a site file (spec 7) strictly: unknown fields, duplicates and malformed values are errors
/// that name the JSON path.
public struct SiteFileDecoder: Sendable {
    /// Turns an API token given in clear into the hash that is stored.
    public var hashAPIToken: @Sendable (String) -> String
    /// Makes an accountId for an app that has none in the file.
    public var makeAppAccountId: @Sendable (String) -> String

    public init(
        hashAPIToken: @escaping @Sendable (String) -> String,
        makeAppAccountId: @escaping @Sendable (String) -> String = { "557058:app-" + $0 }
    ) {
        self.hashAPIToken = hashAPIToken
        self.makeAppAccountId = makeAppAccountId
    }

    /// Decodes the bytes of a site file called `file` (the name is used in errors only).
    public func decode<Bytes: Collection<UInt8>>(_ bytes: Bytes, file: String) throws(SiteFileError) -> Site {
        let root: JSONValue
        do {
            root = try JSONParser.parse(bytes)
        } catch {
            throw SiteFileError(file: file, path: "$", problem: "not valid JSON: \(error)")
        }
        var reader = SiteFileReader(file: file)
        return try reader.site(root, decoder: self)
    }
}

/// Walks a parsed site file, keeping track of the JSON path for errors.
struct SiteFileReader {
    let file: String

    func error(_ path: String, _ problem: String) -> SiteFileError {
        SiteFileError(file: file, path: path, problem: problem)
    }

    /// The members of an object, refusing duplicates and names outside `allowed`.
    func members(_ value: JSONValue, at path: String, allowed: [String]) throws(SiteFileError) -> [String: JSONValue] {
        guard case .object(let list) = value else { throw error(path, "expected an object, found \(value.kindName)") }
        var result: [String: JSONValue] = [:]
        for member in list {
            guard allowed.contains(member.name) else {
                throw error(
                    path, "unknown field \"\(member.name)\" (allowed: \(allowed.joined(separator: ", ")))")
            }
            guard result.updateValue(member.value, forKey: member.name) == nil else {
                throw error(path, "the field \"\(member.name)\" appears twice")
            }
        }
        return result
    }

    func array(_ value: JSONValue?, at path: String) throws(SiteFileError) -> [JSONValue] {
        guard let value else { return [] }
        guard case .array(let elements) = value else { throw error(path, "expected an array, found \(value.kindName)") }
        return elements
    }

    func string(_ value: JSONValue?, at path: String, required: Bool = true) throws(SiteFileError) -> String? {
        guard let value else {
            if required { throw error(path, "is required") }
            return nil
        }
        guard case .string(let text) = value else { throw error(path, "expected a string, found \(value.kindName)") }
        return text
    }

    func nonEmptyString(_ value: JSONValue?, at path: String) throws(SiteFileError) -> String {
        let text = try string(value, at: path)!
        guard !text.isEmpty else { throw error(path, "must not be empty") }
        return text
    }

    func strings(_ value: JSONValue?, at path: String) throws(SiteFileError) -> [String]? {
        guard let value else { return nil }
        var result: [String] = []
        for (index, element) in try array(value, at: path).enumerated() {
            result.append(try nonEmptyString(element, at: "\(path)[\(index)]"))
        }
        return result
    }

    func bool(_ value: JSONValue?, at path: String) throws(SiteFileError) -> Bool? {
        guard let value else { return nil }
        guard case .bool(let flag) = value else { throw error(path, "expected true or false, found \(value.kindName)") }
        return flag
    }

    func accountId(_ value: JSONValue?, at path: String) throws(SiteFileError) -> String {
        let id = try nonEmptyString(value, at: path)
        guard id.count <= User.maximumAccountIdLength else {
            throw error(path, "an accountId is at most \(User.maximumAccountIdLength) characters")
        }
        return id
    }

    func propertyValue(_ value: JSONValue?, at path: String) throws(SiteFileError) -> PropertyValue {
        guard let value else { throw error(path, "is required") }
        let property = PropertyValue(value)
        guard property.jsonText.utf8.count <= PropertyLimits.maximumValueBytes else {
            throw error(path, "the value is longer than \(PropertyLimits.maximumValueBytes) bytes")
        }
        return property
    }

    func propertyKey(_ value: JSONValue?, at path: String, maximum: Int) throws(SiteFileError) -> String {
        let key = try nonEmptyString(value, at: path)
        guard PropertyLimits.javaLength(of: key) <= maximum else {
            throw error(path, "a property key is at most \(maximum) characters")
        }
        guard PropertyLimits.isStorable(key: key) else { throw error(path, "a property key cannot contain U+0000") }
        return key
    }

    mutating func site(_ root: JSONValue, decoder: SiteFileDecoder) throws(SiteFileError) -> Site {
        let top = try members(
            root, at: "$",
            allowed: [
                "site", "users", "apps", "userProperties", "appProperties", "oauthApps", "oauthConsents", "forgeApps",
            ])
        var site = Site()
        if let identity = top["site"] { site.identity = try self.identity(identity, at: "$.site") }
        var accountIds: Set<String> = []
        var emails: Set<String> = []

        for (index, element) in try array(top["users"], at: "$.users").enumerated() {
            let path = "$.users[\(index)]"
            let user = try self.user(element, at: path, decoder: decoder)
            guard accountIds.insert(user.accountId).inserted else {
                throw error("\(path).accountId", "duplicate accountId \"\(user.accountId)\"")
            }
            if let email = user.emailAddress, !emails.insert(email.lowercased()).inserted {
                throw error("\(path).emailAddress", "duplicate e-mail address \"\(email)\"")
            }
            site.users.append(user)
        }

        var appKeys: Set<String> = []
        var clientKeys: Set<String> = []
        for (index, element) in try array(top["apps"], at: "$.apps").enumerated() {
            let path = "$.apps[\(index)]"
            let (app, appUser) = try self.app(element, at: path, decoder: decoder)
            guard appKeys.insert(app.key).inserted else {
                throw error("\(path).key", "duplicate app key \"\(app.key)\"")
            }
            guard clientKeys.insert(app.clientKey).inserted else {
                throw error("\(path).clientKey", "duplicate clientKey \"\(app.clientKey)\"")
            }
            guard accountIds.insert(app.accountId).inserted else {
                throw error("\(path).accountId", "duplicate accountId \"\(app.accountId)\"")
            }
            site.apps.append(app)
            site.appUsers.append(appUser)
        }
        site.forgeApps = try forgeApps(top["forgeApps"], accountIds: &accountIds)

        var userPropertyIds: Set<[String]> = []
        for (index, element) in try array(top["userProperties"], at: "$.userProperties").enumerated() {
            let path = "$.userProperties[\(index)]"
            let fields = try members(element, at: path, allowed: ["accountId", "key", "value"])
            let owner = try accountId(fields["accountId"], at: "\(path).accountId")
            guard accountIds.contains(owner) else {
                throw error("\(path).accountId", "no user or app in this file has accountId \"\(owner)\"")
            }
            let key = try propertyKey(
                fields["key"], at: "\(path).key", maximum: PropertyLimits.maximumUserPropertyKeyLength)
            guard userPropertyIds.insert([owner, key]).inserted else {
                throw error("\(path).key", "the property \"\(key)\" of \"\(owner)\" is given twice")
            }
            let value = try propertyValue(fields["value"], at: "\(path).value")
            site.userProperties.append(UserPropertyRecord(accountId: owner, key: key, value: value))
        }

        var appPropertyIds: Set<[String]> = []
        for (index, element) in try array(top["appProperties"], at: "$.appProperties").enumerated() {
            let path = "$.appProperties[\(index)]"
            let fields = try members(element, at: path, allowed: ["appKey", "key", "value"])
            let appKey = try nonEmptyString(fields["appKey"], at: "\(path).appKey")
            guard appKeys.contains(appKey) else {
                throw error("\(path).appKey", "no app in this file has key \"\(appKey)\"")
            }
            let key = try propertyKey(
                fields["key"], at: "\(path).key", maximum: PropertyLimits.maximumAppPropertyKeyLength)
            guard appPropertyIds.insert([appKey, key]).inserted else {
                throw error("\(path).key", "the property \"\(key)\" of app \"\(appKey)\" is given twice")
            }
            let value = try propertyValue(fields["value"], at: "\(path).value")
            site.appProperties.append(AppPropertyRecord(appKey: appKey, key: key, value: value))
        }

        var clientIds: Set<String> = []
        for (index, element) in try array(top["oauthApps"], at: "$.oauthApps").enumerated() {
            let path = "$.oauthApps[\(index)]"
            let app = try oauthApp(element, at: path, decoder: decoder)
            guard clientIds.insert(app.clientId).inserted else {
                throw error("\(path).clientId", "duplicate clientId \"\(app.clientId)\"")
            }
            site.oauthApps.append(app)
        }

        var consentIds: Set<[String]> = []
        for (index, element) in try array(top["oauthConsents"], at: "$.oauthConsents").enumerated() {
            let path = "$.oauthConsents[\(index)]"
            let fields = try members(element, at: path, allowed: ["clientId", "accountId", "scopes"])
            let clientId = try nonEmptyString(fields["clientId"], at: "\(path).clientId")
            guard clientIds.contains(clientId) else {
                throw error("\(path).clientId", "no OAuth app in this file has clientId \"\(clientId)\"")
            }
            let owner = try accountId(fields["accountId"], at: "\(path).accountId")
            guard accountIds.contains(owner) else {
                throw error("\(path).accountId", "no user in this file has accountId \"\(owner)\"")
            }
            guard consentIds.insert([clientId, owner]).inserted else {
                throw error(path, "the consent of \"\(owner)\" to \"\(clientId)\" is given twice")
            }
            let scopes = try strings(fields["scopes"], at: "\(path).scopes") ?? []
            site.oauthConsents.append(OAuthConsent(clientId: clientId, accountId: owner, scopes: scopes))
        }
        return site
    }

    func identity(_ value: JSONValue, at path: String) throws(SiteFileError) -> SiteIdentity {
        let fields = try members(value, at: path, allowed: ["cloudId", "name"])
        let cloudId = try nonEmptyString(fields["cloudId"], at: "\(path).cloudId")
        guard SiteIdentity.isCloudId(cloudId) else {
            throw error(
                "\(path).cloudId",
                "\"\(cloudId)\" is not a cloudId (a lowercase UUID such as 0f6b5a5e-4c5d-4e8f-9a1b-2c3d4e5f6a7b)")
        }
        let name = try string(fields["name"], at: "\(path).name", required: false) ?? "Understudy"
        return SiteIdentity(cloudId: cloudId, name: name)
    }

    func oauthApp(_ value: JSONValue, at path: String, decoder: SiteFileDecoder) throws(SiteFileError) -> OAuthApp {
        let fields = try members(
            value, at: path,
            allowed: ["clientId", "clientSecret", "clientSecretHash", "name", "callbackUrls", "scopes"])
        let secretHash: String
        switch (fields["clientSecret"], fields["clientSecretHash"]) {
        case (let secret?, nil):
            secretHash = decoder.hashAPIToken(try nonEmptyString(secret, at: "\(path).clientSecret"))
        case (nil, let hash?): secretHash = try nonEmptyString(hash, at: "\(path).clientSecretHash")
        case (nil, nil): throw error(path, "clientSecret (or the clientSecretHash of a snapshot) is required")
        case (_?, _?): throw error(path, "give clientSecret or clientSecretHash, not both")
        }
        let callbackUrls = try strings(fields["callbackUrls"], at: "\(path).callbackUrls") ?? []
        guard !callbackUrls.isEmpty else {
            throw error("\(path).callbackUrls", "at least one callback URL is required")
        }
        for (index, url) in callbackUrls.enumerated() {
            guard let parsed = URLComponents(string: url), let scheme = parsed.scheme?.lowercased(),
                scheme == "http" || scheme == "https", parsed.host?.isEmpty == false, parsed.fragment == nil
            else {
                throw error(
                    "\(path).callbackUrls[\(index)]",
                    "\"\(url)\" is not an absolute http or https URL without a fragment")
            }
        }
        return OAuthApp(
            clientId: try nonEmptyString(fields["clientId"], at: "\(path).clientId"),
            name: try nonEmptyString(fields["name"], at: "\(path).name"),
            clientSecretHash: secretHash, callbackUrls: callbackUrls,
            scopes: try scopes(fields["scopes"], at: "\(path).scopes"))
    }

    /// A list of OAuth scopes: non-empty strings without spaces (a scope parameter is space-separated).
    func scopes(_ value: JSONValue?, at path: String) throws(SiteFileError) -> [String] {
        let scopes = try strings(value, at: path) ?? []
        for (index, scope) in scopes.enumerated() where scope.contains(where: \.isWhitespace) {
            throw error("\(path)[\(index)]", "a scope has no spaces; list each scope as its own string")
        }
        return scopes
    }

    /// `apiTokens` or `apiTokenHashes`: strings (classic tokens) mixed with objects that add scopes.
    func apiTokens(_ value: JSONValue?, at path: String, field: String, hash: (String) -> String)
        throws(SiteFileError) -> (classic: [String], scoped: [ScopedAPIToken])
    {
        var classic: [String] = []
        var scoped: [ScopedAPIToken] = []
        for (index, element) in try array(value, at: path).enumerated() {
            let elementPath = "\(path)[\(index)]"
            if case .object = element {
                let fields = try members(element, at: elementPath, allowed: [field, "scopes"])
                let secret = try nonEmptyString(fields[field], at: "\(elementPath).\(field)")
                let scopes = try self.scopes(fields["scopes"], at: "\(elementPath).scopes")
                guard !scopes.isEmpty else {
                    throw error(
                        "\(elementPath).scopes",
                        "a scoped token needs at least one scope (a classic token is a plain string)")
                }
                scoped.append(ScopedAPIToken(hash: hash(secret), scopes: scopes))
            } else {
                classic.append(hash(try nonEmptyString(element, at: elementPath)))
            }
        }
        return (classic, scoped)
    }

    func user(_ value: JSONValue, at path: String, decoder: SiteFileDecoder) throws(SiteFileError) -> User {
        let fields = try members(
            value, at: path,
            allowed: [
                "accountId", "emailAddress", "displayName", "apiTokens", "apiTokenHashes", "groups", "active",
                "timeZone", "locale", "legacyProperties",
            ])
        let email = try nonEmptyString(fields["emailAddress"], at: "\(path).emailAddress")
        guard email.contains("@") else { throw error("\(path).emailAddress", "\"\(email)\" is not an e-mail address") }
        let stored = try apiTokens(
            fields["apiTokenHashes"], at: "\(path).apiTokenHashes", field: "hash", hash: { $0 })
        let given = try apiTokens(
            fields["apiTokens"], at: "\(path).apiTokens", field: "token", hash: decoder.hashAPIToken)
        var legacy: [String: String] = [:]
        if let legacyValue = fields["legacyProperties"] {
            let legacyPath = "\(path).legacyProperties"
            guard case .object(let list) = legacyValue else {
                throw error(legacyPath, "expected an object of strings, found \(legacyValue.kindName)")
            }
            for member in list {
                guard case .string(let text) = member.value else {
                    throw error(
                        "\(legacyPath).\(member.name)",
                        "admin-UI properties are strings, found \(member.value.kindName)")
                }
                guard legacy.updateValue(text, forKey: member.name) == nil else {
                    throw error(legacyPath, "the field \"\(member.name)\" appears twice")
                }
            }
        }
        return User(
            accountId: try accountId(fields["accountId"], at: "\(path).accountId"),
            emailAddress: email,
            displayName: try nonEmptyString(fields["displayName"], at: "\(path).displayName"),
            active: try bool(fields["active"], at: "\(path).active") ?? true,
            timeZone: try string(fields["timeZone"], at: "\(path).timeZone", required: false) ?? "UTC",
            locale: try string(fields["locale"], at: "\(path).locale", required: false) ?? "en_US",
            groups: try strings(fields["groups"], at: "\(path).groups") ?? [],
            apiTokenHashes: stored.classic + given.classic,
            scopedAPITokens: stored.scoped + given.scoped,
            legacyProperties: legacy
        )
    }

    func app(_ value: JSONValue, at path: String, decoder: SiteFileDecoder) throws(SiteFileError) -> (ConnectApp, User)
    {
        let fields = try members(
            value, at: path,
            allowed: ["key", "name", "clientKey", "sharedSecret", "scopes", "accountId", "groups", "installation"])
        let key = try nonEmptyString(fields["key"], at: "\(path).key")
        let name = try nonEmptyString(fields["name"], at: "\(path).name")
        var scopes: [ConnectScope] = []
        for (index, element) in try array(fields["scopes"], at: "\(path).scopes").enumerated() {
            let scopePath = "\(path).scopes[\(index)]"
            let text = try nonEmptyString(element, at: scopePath)
            guard let scope = ConnectScope(rawValue: text.uppercased()) else {
                let known = ConnectScope.allCases.map(\.rawValue).joined(separator: ", ")
                throw error(scopePath, "unknown scope \"\(text)\" (known: \(known))")
            }
            scopes.append(scope)
        }
        let accountId =
            try fields["accountId"].map { value throws(SiteFileError) in
                try self.accountId(value, at: "\(path).accountId")
            }
            ?? decoder.makeAppAccountId(key)
        var app = ConnectApp(
            key: key, name: name,
            clientKey: try nonEmptyString(fields["clientKey"], at: "\(path).clientKey"),
            sharedSecret: try nonEmptyString(fields["sharedSecret"], at: "\(path).sharedSecret"),
            scopes: scopes, accountId: accountId)
        if let installation = fields["installation"] {
            guard let read = ConnectInstallation(json: installation) else {
                throw error(
                    "\(path).installation",
                    "an installation as a snapshot writes it: descriptorUrl, baseUrl, lifecycle, signing (signed or legacy), state (installed, incomplete with a problem, or uninstalled) and installedBy"
                )
            }
            app.installation = read
        }
        let appUser = User(
            accountId: accountId, accountType: .app, emailAddress: nil, displayName: name,
            groups: try strings(fields["groups"], at: "\(path).groups") ?? ConnectApp.defaultGroups)
        return (app, appUser)
    }
}
