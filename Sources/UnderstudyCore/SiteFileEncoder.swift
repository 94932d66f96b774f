/// Writes a site as a site file (spec 7): what `GET /_understudy/snapshot` answers and what
/// `--seed` and `PUT /_understudy/snapshot` read back. Tokens appear only as the hashes stored
/// (`apiTokenHashes`), never in clear; optional fields at their default are left out.
public enum SiteFileEncoder {
    public static func encode(_ site: Site) -> JSONValue {
        let appUsers = Dictionary(site.appUsers.map { ($0.accountId, $0) }, uniquingKeysWith: { first, _ in first })
        var members: [JSONMember] = []
        if let identity = site.identity {
            members.append(
                JSONMember(
                    "site",
                    .object([
                        JSONMember("cloudId", .string(identity.cloudId)), JSONMember("name", .string(identity.name)),
                    ])
                ))
        }
        return .object(
            members + [
                JSONMember("users", .array(site.users.map(user))),
                JSONMember("apps", .array(site.apps.map { app($0, user: appUsers[$0.accountId]) })),
                JSONMember(
                    "userProperties",
                    .array(
                        site.userProperties.map {
                            .object([
                                JSONMember("accountId", .string($0.accountId)), JSONMember("key", .string($0.key)),
                                JSONMember("value", value($0.value)),
                            ])
                        })),
                JSONMember(
                    "appProperties",
                    .array(
                        site.appProperties.map {
                            .object([
                                JSONMember("appKey", .string($0.appKey)), JSONMember("key", .string($0.key)),
                                JSONMember("value", value($0.value)),
                            ])
                        })),
                JSONMember(
                    "oauthApps",
                    .array(
                        site.oauthApps.map {
                            .object([
                                JSONMember("clientId", .string($0.clientId)), JSONMember("name", .string($0.name)),
                                JSONMember("clientSecretHash", .string($0.clientSecretHash)),
                                JSONMember("callbackUrls", strings($0.callbackUrls)),
                                JSONMember("scopes", strings($0.scopes)),
                            ])
                        })),
                JSONMember(
                    "oauthConsents",
                    .array(
                        site.oauthConsents.map {
                            .object([
                                JSONMember("clientId", .string($0.clientId)),
                                JSONMember("accountId", .string($0.accountId)),
                                JSONMember("scopes", strings($0.scopes)),
                            ])
                        })),
                JSONMember("forgeApps", .array(site.forgeApps.map(forgeApp))),
            ])
    }

    private static func forgeApp(_ app: ForgeApp) -> JSONValue {
        var members = [
            JSONMember("appId", .string(app.appId)), JSONMember("name", .string(app.name)),
            JSONMember("scopes", strings(app.scopes)), JSONMember("installationId", .string(app.installationId)),
        ]
        if let connectKey = app.connectKey { members.append(JSONMember("connectKey", .string(connectKey))) }
        members.append(JSONMember("accountId", .string(app.accountId)))
        if case .object(let customUI)? = app.customUIJSON {
            members += customUI.filter { member in
                if case .array(let entries) = member.value { !entries.isEmpty } else { false }
            }
        }
        return .object(members)
    }

    private static func user(_ user: User) -> JSONValue {
        var members = [JSONMember("accountId", .string(user.accountId))]
        if let email = user.emailAddress { members.append(JSONMember("emailAddress", .string(email))) }
        members.append(JSONMember("displayName", .string(user.displayName)))
        if !user.active { members.append(JSONMember("active", .bool(false))) }
        if user.timeZone != "UTC" { members.append(JSONMember("timeZone", .string(user.timeZone))) }
        if user.locale != "en_US" { members.append(JSONMember("locale", .string(user.locale))) }
        members.append(JSONMember("groups", strings(user.groups)))
        let scoped = user.scopedAPITokens.map {
            JSONValue.object([JSONMember("hash", .string($0.hash)), JSONMember("scopes", strings($0.scopes))])
        }
        if !user.apiTokenHashes.isEmpty || !scoped.isEmpty {
            members.append(JSONMember("apiTokenHashes", .array(user.apiTokenHashes.map(JSONValue.string) + scoped)))
        }
        if !user.legacyProperties.isEmpty {
            members.append(
                JSONMember(
                    "legacyProperties",
                    .object(
                        user.legacyProperties.sorted { $0.key < $1.key }.map { JSONMember($0.key, .string($0.value)) })
                ))
        }
        return .object(members)
    }

    private static func app(_ app: ConnectApp, user: User?) -> JSONValue {
        var members = [
            JSONMember("key", .string(app.key)), JSONMember("name", .string(app.name)),
            JSONMember("clientKey", .string(app.clientKey)), JSONMember("sharedSecret", .string(app.sharedSecret)),
            JSONMember("scopes", strings(app.scopes.map(\.rawValue))), JSONMember("accountId", .string(app.accountId)),
        ]
        if let groups = user?.groups, groups != ConnectApp.defaultGroups {
            members.append(JSONMember("groups", strings(groups)))
        }
        if let installation = app.installation { members.append(JSONMember("installation", installation.json)) }
        return .object(members)
    }

    private static func strings(_ values: [String]) -> JSONValue { .array(values.map(JSONValue.string)) }

    /// A stored value is valid JSON by construction; it is embedded as parsed.
    private static func value(_ value: PropertyValue) -> JSONValue {
        (try? JSONParser.parse(value.jsonText)) ?? .null
    }
}
