import Foundation
import Synchronization
import UnderstudyAuth
import UnderstudyCore

/// Who is calling, as far as the credentials tell.
enum Authentication {
    case anonymous
    case user(User)
    /// A Connect app, authenticated by its JWT; it acts as its app user.
    case app(ConnectApp, appUser: User)
    /// Credentials were sent but are not valid; the explanation says why.
    case failed(explanation: String)
}

/// Checks the credentials a request carries (spec 5.1, 5.2). Bad credentials never raise: they
/// are an answer, and whether they lead to `401` depends on the resource.
struct Authenticator: Sendable {
    let store: any SiteStore
    /// The path of the site's base URL, which the query string hash leaves out.
    let basePath: String
    let now: @Sendable () -> Date
    /// Tokens already verified for a request, so an app that reuses a token until it expires (as
    /// many do) is not verified from scratch each time.
    let verifiedTokens = VerifiedTokenCache()

    /// - Parameters:
    ///   - target: the request target as sent (path and query), for the query string hash.
    ///   - jwtQueryParameter: the value of the `jwt` query parameter, if any.
    func authenticate(authorization: String?, jwtQueryParameter: String?, method: String, target: Substring)
        async throws -> Authentication
    {
        guard let authorization else {
            guard let token = jwtQueryParameter else { return .anonymous }
            return try await connect(token: token, method: method, target: target)
        }
        if jwtQueryParameter != nil {
            return .failed(
                explanation:
                    "The request carries a jwt query parameter and an Authorization header; send the credentials one way only."
            )
        }
        let parts = authorization.split(separator: " ", maxSplits: 1, omittingEmptySubsequences: true)
        guard parts.count == 2 else {
            return .failed(
                explanation:
                    "The Authorization header is malformed; send 'Basic base64(email:apiToken)' or 'JWT <token>'.")
        }
        switch parts[0].lowercased() {
        case "basic": return try await basic(credentials: parts[1])
        case "jwt":
            return try await connect(
                token: String(parts[1].trimmingCharacters(in: .whitespaces)), method: method, target: target)
        case "bearer":
            return .failed(
                explanation:
                    "Bearer (OAuth 2.0) tokens are not supported by Understudy yet; authenticate with Basic e-mail:API-token or a Connect JWT."
            )
        default:
            return .failed(
                explanation:
                    "The Authorization scheme '\(parts[0])' is not one Jira accepts here; use Basic e-mail:API-token or JWT."
            )
        }
    }

    /// Connect JWT, in the order of spec 5.2: parse, find the app by `iss`, signature, times, qsh.
    private func connect(token: String, method: String, target: Substring) async throws -> Authentication {
        if let remembered = verifiedTokens.lookUp(token, method: method, target: target),
            let app = try await store.app(key: remembered.appKey), app.sharedSecret == remembered.sharedSecret,
            let appUser = try await store.user(accountId: app.accountId)
        {
            // Signature and qsh were verified for exactly this request; the time is checked anew.
            do {
                try ConnectJWT.verifyTimes(remembered.token, now: now())
                return .app(app, appUser: appUser)
            } catch {
                return .failed(explanation: error.explanation)
            }
        }
        do {
            let parsed = try ConnectJWT.parse(token)
            guard let app = try await store.app(key: parsed.issuer) else {
                if let owner = try await store.app(clientKey: parsed.issuer) {
                    throw ConnectJWTFailure.issuerIsClientKey(clientKey: parsed.issuer, appKey: owner.key)
                }
                throw ConnectJWTFailure.unknownIssuer(parsed.issuer)
            }
            try ConnectJWT.verifySignature(parsed, sharedSecret: app.sharedSecret, appKey: app.key)
            try ConnectJWT.verifyTimes(parsed, now: now())
            try ConnectJWT.verifyQueryStringHash(parsed, method: method, target: target, basePath: basePath)
            guard let appUser = try await store.user(accountId: app.accountId) else {
                return .failed(explanation: "The app user \(app.accountId) of app \(app.key) is missing from the site.")
            }
            verifiedTokens.remember(token, parsed: parsed, app: app, method: method, target: target)
            return .app(app, appUser: appUser)
        } catch let failure as ConnectJWTFailure {
            return .failed(explanation: failure.explanation)
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

/// Remembers Connect JWTs whose signature and qsh were verified, with the request they were
/// verified for. A hit needs the same token, method and target, and the app's secret unchanged;
/// the time claims are always checked again.
final class VerifiedTokenCache: Sendable {
    struct Entry: Sendable {
        let token: ConnectToken
        let appKey: String
        let sharedSecret: String
        let method: String
        let target: Substring
    }

    private let entries = Mutex<[String: Entry]>([:])
    static let capacity = 10_000

    func lookUp(_ token: String, method: String, target: Substring) -> Entry? {
        guard let entry = entries.withLock({ $0[token] }), entry.method == method, entry.target == target else {
            return nil
        }
        return entry
    }

    func remember(_ token: String, parsed: ConnectToken, app: ConnectApp, method: String, target: Substring) {
        let entry = Entry(
            token: parsed, appKey: app.key, sharedSecret: app.sharedSecret, method: method, target: target)
        entries.withLock { entries in
            if entries.count >= Self.capacity { entries.removeAll(keepingCapacity: true) }
            entries[token] = entry
        }
    }
}
