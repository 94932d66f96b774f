import Foundation
import HTTPTypes
import Hummingbird
import UnderstudyCore

/// The Connect-install part of the control API (spec 13):
///
/// | method | path | does |
/// |---|---|---|
/// | GET | `/_understudy/connect/installations` | the apps installed from descriptors, with their state, and the install key's URL |
/// | POST | `/_understudy/connect/installations` | installs from `descriptorUrl` (`signing`: `signed` or `legacy`, optional `tamper`): `201` installed, `200` tampered, `400` bad descriptor, `502` incomplete |
/// | DELETE | `/_understudy/connect/installations/{key}` | uninstalls (calls `disabled`, `uninstalled`): `200`, `404` |
extension ControlPlane {
    func connect(_ request: Request, resource: Substring, builder: ResponseBuilder) async throws -> Response {
        switch (request.method, resource) {
        case (.get, "installations"):
            let apps = try await store.connect.installedApps()
            let key = try await installer.installKey()
            return builder.json(
                .ok,
                .object([
                    JSONMember(
                        "installKeyUrl", .string(installer.address.baseURL + "/connect-install-keys/" + key.kid)),
                    JSONMember("installations", .array(apps.map(Self.json))),
                ]))
        case (.post, "installations"):
            let order = try Self.installOrder(try await Self.json(request))
            let result = try await installer.install(order)
            return builder.json(Self.status(of: result), result.json)
        case (.delete, let rest) where rest.hasPrefix("installations/"):
            let key = String(rest.dropFirst("installations/".count)).removingPercentEncoding ?? ""
            guard let result = try await installer.uninstall(appKey: key) else {
                throw ControlRequestError(
                    status: .notFound, message: "No Connect app has the key '\(key)'.",
                    explanation: "GET /_understudy/connect/installations lists the apps installed from descriptors.")
            }
            return builder.json(Self.status(of: result), result.json)
        default:
            throw ControlRequestError(
                status: .notFound, message: "The requested resource could not be found.",
                explanation:
                    "The Connect part of the control API has GET and POST /_understudy/connect/installations and DELETE /_understudy/connect/installations/{key}."
            )
        }
    }

    /// `201` installed, `200` uninstalled or tampered (the exercise ran), `400` rejected, `502`
    /// incomplete (spec 13's choice).
    static func status(of result: InstallResult) -> HTTPResponse.Status {
        switch result.outcome {
        case .installed: .created
        case .uninstalled, .tampered: .ok
        case .rejected: .badRequest
        case .incomplete: .badGateway
        }
    }

    /// `{"descriptorUrl": …, "signing": "signed" | "legacy", "tamper": …}`, strictly.
    static func installOrder(_ body: JSONValue) throws(ControlRequestError) -> ConnectInstaller.Order {
        let usage =
            "Send {\"descriptorUrl\": \"http://…/atlassian-connect.json\"}, optionally with \"signing\": \"signed\" | \"legacy\" and \"tamper\": one of \(ConnectLifecycleTamper.allCases.map(\.rawValue).joined(separator: ", "))."
        guard case .object(let members) = body else { throw .badRequest(usage) }
        var order = ConnectInstaller.Order(descriptorUrl: "")
        for member in members {
            switch (member.name, member.value) {
            case ("descriptorUrl", .string(let url)): order.descriptorUrl = url
            case ("signing", .string(let name)):
                guard let signing = ConnectInstallation.Signing(rawValue: name) else {
                    throw .badRequest("signing is \"signed\" or \"legacy\", not \"\(name)\".")
                }
                order.signing = signing
            case ("tamper", .null): break
            case ("tamper", .string(let name)):
                guard let tamper = ConnectLifecycleTamper(rawValue: name) else {
                    throw .badRequest(
                        "tamper \"\(name)\" is not one of \(ConnectLifecycleTamper.allCases.map(\.rawValue).joined(separator: ", "))."
                    )
                }
                order.tamper = tamper
            default: throw .badRequest("Unexpected \(member.name) (\(member.value.kindName)). \(usage)")
            }
        }
        guard AppCaller.origin(of: order.descriptorUrl) != nil else {
            throw .badRequest(
                order.descriptorUrl.isEmpty
                    ? usage : "descriptorUrl \"\(order.descriptorUrl)\" is not an http or https URL.")
        }
        return order
    }

    static func json(_ app: ConnectApp) -> JSONValue {
        var members = [
            JSONMember("key", .string(app.key)), JSONMember("name", .string(app.name)),
            JSONMember("clientKey", .string(app.clientKey)), JSONMember("accountId", .string(app.accountId)),
            JSONMember("scopes", .array(app.scopes.map { .string($0.rawValue) })),
        ]
        if let installation = app.installation, case .object(let details) = installation.json {
            members += details
        }
        return .object(members)
    }
}
