import Foundation
import UnderstudyAuth
import UnderstudyCore

/// Who is calling, as far as the credentials tell.
enum Authentication {
    case anonymous
    case user(User)
    /// Credentials were sent but are not valid; the explanation says why.
    case failed(explanation: String)
}

/// Checks the credentials a request carries (spec 5.1). Bad credentials never raise: they are an
/// answer, and whether they lead to `401` depends on the resource.
struct Authenticator: Sendable {
    let store: any SiteStore

    func authenticate(authorization: String?, jwtQueryParameter: Bool) async throws -> Authentication {
        guard let authorization else {
            if jwtQueryParameter {
                return .failed(
                    explanation:
                        "Connect JWT authentication (the jwt query parameter) is not available on this Understudy version; authenticate with Basic e-mail:API-token."
                )
            }
            return .anonymous
        }
        if jwtQueryParameter {
            return .failed(
                explanation:
                    "The request carries a jwt query parameter and an Authorization header; send the credentials one way only."
            )
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            return .failed(explanation: "The Authorization header is malformed; send 'Basic base64(email:apiToken)'.")
        }
        switch parts[0].lowercased() {
        case "basic": return try await basic(credentials: parts[1])
        case "jwt":
            return .failed(
                explanation:
                    "Connect JWT authentication is not available on this Understudy version; authenticate with Basic e-mail:API-token."
            )
        case "bearer":
            return .failed(
                explanation:
                    "Bearer (OAuth 2.0) tokens are not supported by Understudy yet; authenticate with Basic e-mail:API-token."
            )
        default:
            return .failed(
                explanation:
                    "The Authorization scheme '\(parts[0])' is not one Jira accepts here; use Basic e-mail:API-token.")
        }
    }

    private func basic(credentials: Substring) async throws -> Authentication {
        guard let data = Data(base64Encoded: String(credentials.trimmingCharacters(in: .whitespaces))),
            let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else {
            return .failed(explanation: "The Basic credentials are not base64 of 'email:apiToken'.")
        }
        let email = String(decoded[..<colon])
        let token = String(decoded[decoded.index(after: colon)...])
        guard let user = try await store.user(emailAddress: email) else {
            return .failed(
                explanation:
                    "No account on this site has the e-mail address '\(email)'; Basic auth takes the e-mail of the account that owns the API token."
            )
        }
        guard APITokens.matches(token, hashes: user.apiTokenHashes) else {
            return .failed(
                explanation:
                    "The API token is not one of \(email)'s tokens; check that the token belongs to this e-mail (a password is not accepted)."
            )
        }
        guard user.active else {
            return .failed(explanation: "The account \(email) is deactivated, and deactivated users cannot sign in.")
        }
        return .user(user)
    }
}
