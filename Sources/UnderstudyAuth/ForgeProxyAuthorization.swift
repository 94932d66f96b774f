import Foundation

/// The header a Forge Container's egress sends with each product call (spec 11.2):
/// `Forge as=app,installationId=<id>` or `Forge as=user,installationId=<id>,accountId=<id>`.
public struct ForgeProxyAuthorization: Sendable, Equatable {
    /// Whom the call acts as.
    public enum Acting: Sendable, Equatable {
        case app
        case user(accountId: String)
    }

    public let installationId: String
    public let acting: Acting

    public init(installationId: String, acting: Acting) {
        self.installationId = installationId
        self.acting = acting
    }

    /// Parses the header's value, or says what is wrong with it.
    public init(_ value: String) throws(Refusal) {
        let trimmed = value.trimmingCharacters(in: .whitespaces)
        let scheme = trimmed.prefix { $0 != " " }
        guard scheme.lowercased() == "forge" else {
            throw Refusal(
                "forge-proxy-authorization must start with the scheme Forge (e.g. Forge as=app,installationId=ari:cloud:ecosystem::installation/…), not '\(scheme)'."
            )
        }
        var fields: [String: String] = [:]
        for part in trimmed.dropFirst(scheme.count).split(separator: ",") {
            // Not omitting empty pieces: "=x" is a pair without a name, not a crash (found by fuzzing).
            let pair = part.split(separator: "=", maxSplits: 1, omittingEmptySubsequences: false)
            let name = pair[0].trimmingCharacters(in: .whitespaces)
            guard pair.count == 2, !name.isEmpty else {
                throw Refusal("forge-proxy-authorization has '\(part)' where a name=value pair belongs.")
            }
            guard fields.updateValue(pair[1].trimmingCharacters(in: .whitespaces), forKey: name) == nil else {
                throw Refusal("forge-proxy-authorization gives \(name) twice.")
            }
        }
        guard let installationId = fields.removeValue(forKey: "installationId"), !installationId.isEmpty else {
            throw Refusal(
                fields["id"] != nil
                    ? "forge-proxy-authorization names an invocation (id=…), which only Forge's own proxy can resolve; Understudy needs installationId=<the app's installationId> instead."
                    : "forge-proxy-authorization has no installationId; send Forge as=app,installationId=<the app's installationId>."
            )
        }
        self.installationId = installationId
        let accountId = fields.removeValue(forKey: "accountId")
        switch fields.removeValue(forKey: "as") {
        case "app":
            // An accountId beside as=app (the user in the invocation) does not change who acts.
            acting = .app
        case "user":
            guard let accountId, !accountId.isEmpty else {
                throw Refusal("as=user needs accountId=<the user's accountId>: the user the call acts for.")
            }
            acting = .user(accountId: accountId)
        case let other:
            throw Refusal(
                "forge-proxy-authorization needs as=app or as=user, not \(other.map { "as=\($0)" } ?? "no as=")."
            )
        }
    }

    /// The header's value, as a container's egress would send it.
    public var headerValue: String {
        switch acting {
        case .app: "Forge as=app,installationId=\(installationId)"
        case .user(let accountId): "Forge as=user,installationId=\(installationId),accountId=\(accountId)"
        }
    }

    /// Why a header was refused, in words for the explanation.
    public struct Refusal: Error, Sendable {
        public let explanation: String
        init(_ explanation: String) { self.explanation = explanation }
    }
}
