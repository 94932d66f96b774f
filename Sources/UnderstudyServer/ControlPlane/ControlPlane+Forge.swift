import Hummingbird
import UnderstudyCore

/// The Forge part of the control API (spec 11.1, 12):
///
/// | method | path | does |
/// |---|---|---|
/// | GET | `/_understudy/forge/apps` | the Forge apps, each with its installation and app user |
/// | POST | `/_understudy/forge/apps` | installs one (`name`, `scopes`, optional `appId`, `installationId`, `connectKey`, `accountId`); `201` |
/// | POST | `/_understudy/forge/tokens` | an app system token (`appId`) or app user token (`appId`, `accountId`); `201` |
extension ControlPlane {
    func forge(_ request: Request, resource: Substring, builder: ResponseBuilder) async throws -> Response {
        switch (request.method, resource) {
        case (.get, "apps"):
            let apps = try await store.forge.forgeApps()
            return builder.json(.ok, .object([JSONMember("apps", .array(apps.map(Self.json)))]))
        case (.post, "apps"):
            guard case .object(let members) = try await Self.json(request) else {
                throw ControlRequestError.badRequest(
                    "Send {\"name\": …, \"scopes\": […]} (appId, installationId, connectKey and accountId are optional)."
                )
            }
            let app: ForgeApp
            do {
                app = try SiteSetup.newForgeApp(members)
            } catch {
                throw ControlRequestError.badRequest("The Forge app is not valid: \(error.path): \(error.problem)")
            }
            do {
                try await store.forge.addForgeApp(app)
            } catch let error as SiteStoreError {
                switch error {
                case .duplicateAppId, .duplicateInstallationId, .duplicateAccountId:
                    throw ControlRequestError(
                        status: .conflict, message: "The Forge app was not installed: \(error).",
                        explanation: "GET /_understudy/forge/apps lists the apps installed.")
                default: throw error
                }
            }
            return builder.json(.created, Self.json(app))
        case (.post, "tokens"):
            guard case .object(let members) = try await Self.json(request),
                case .string(let appId)? = members.first(where: { $0.name == "appId" })?.value
            else {
                throw ControlRequestError.badRequest(
                    "Send {\"appId\": …} for an app system token, or {\"appId\": …, \"accountId\": …} for an app user token."
                )
            }
            let accountId: String?
            switch members.first(where: { $0.name == "accountId" })?.value {
            case nil, .null?: accountId = nil
            case .string(let given)?: accountId = given
            default: throw ControlRequestError.badRequest("accountId is a string: the user the token acts for.")
            }
            let minted: ForgeTokenMinter.Minted
            do {
                minted = try await ForgeTokenMinter(store: store, now: clock.now).mint(
                    appId: appId, accountId: accountId)
            } catch let refusal as ForgeTokenMinter.Refusal {
                throw ControlRequestError(
                    status: .notFound, message: refusal.description,
                    explanation:
                        "GET /_understudy/forge/apps lists the Forge apps; an app user token acts for an active person."
                )
            }
            return builder.json(.created, Self.json(minted))
        default:
            throw ControlRequestError(
                status: .notFound, message: "The requested resource could not be found.",
                explanation:
                    "The Forge part of the control API has GET and POST /_understudy/forge/apps and POST /_understudy/forge/tokens."
            )
        }
    }

    /// An app with its app user, which the stores always derive from the app (`ForgeApp.appUser`).
    static func json(_ app: ForgeApp) -> JSONValue {
        let appUser = app.appUser
        return .object([
            JSONMember("appId", .string(app.appId)), JSONMember("name", .string(app.name)),
            JSONMember("scopes", .array(app.scopes.map(JSONValue.string))),
            JSONMember("installationId", .string(app.installationId)),
            JSONMember("connectKey", app.connectKey.map(JSONValue.string) ?? .null),
            JSONMember(
                "appUser",
                .object([
                    JSONMember("accountId", .string(appUser.accountId)), JSONMember("accountType", .string("app")),
                    JSONMember("displayName", .string(appUser.displayName)),
                    JSONMember("groups", .array(appUser.groups.map(JSONValue.string))),
                    JSONMember("administersJira", .bool(appUser.permissions.contains(.administerJira))),
                ])),
        ])
    }

    static func json(_ minted: ForgeTokenMinter.Minted) -> JSONValue {
        .object([
            JSONMember("token", .string(minted.token)), JSONMember("expiresIn", .number(String(minted.expiresIn))),
            JSONMember("accountId", .string(minted.accountId)), JSONMember("appId", .string(minted.app.appId)),
            JSONMember(
                "kind", .string(minted.accountId == minted.app.accountId ? "app-system-token" : "app-user-token")),
        ])
    }
}
