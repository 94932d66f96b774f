import Foundation
import Synchronization
import UnderstudyAuth
import UnderstudyCore

/// Who is calling, as far as the credentials tell.
enum Authentication {
    case anonymous
    /// A person with Basic credentials, or a Connect app by its JWT acting as its app user.
    case principal(Principal)
    /// Credentials were sent but are not valid; the explanation says why.
    case failed(explanation: String)
    /// Credentials that only the API gateway accepts (an OAuth 2.0 token, a scoped API token),
    /// named as the explanation names them: the site answers as for failed authentication.
    case gatewayOnly(credential: String)
}

/// Checks the credentials a request carries (spec 5.1, 5.2). Bad credentials never raise: they
/// are an answer, and whether they lead to `401` depends on the resource.
struct Authenticator: Sendable {
    let store: any SiteStore
    /// The path of the site's base URL, which the query string hash leaves out.
    let basePath: String
    let now: @Sendable () -> Date
    /// Tokens already verified for a request, so an app that reuses a token until it expires (as
    /// many do) is not verified from scratch each time. The signature and qsh hold for exactly that
    /// request; the app's secret must be unchanged and the time claims are always checked again.
    let verifiedTokens = BoundedCache<String, VerifiedToken>()
    /// Basic credentials already verified, keyed by the header's base64 text (memory only).
    let verifiedCredentials = BoundedCache<Substring, RememberedCredentials>()

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
        guard let (scheme, credentials) = Self.schemeAndCredentials(Substring(authorization)) else {
            return .failed(
                explanation:
                    "The Authorization header is malformed; send 'Basic base64(email:apiToken)' or 'JWT <token>'.")
        }
        switch scheme {
        case .basic: return try await basic(credentials: credentials)
        case .jwt:
            return try await connect(token: String(credentials.trimmingWhitespace()), method: method, target: target)
        case .bearer:
            return .gatewayOnly(credential: "OAuth 2.0 access tokens (Authorization: Bearer)")
        case .other(let name):
            return .failed(
                explanation:
                    "The Authorization scheme '\(name)' is not one Jira accepts here; use Basic e-mail:API-token or JWT."
            )
        }
    }

    enum Scheme {
        case basic, jwt, bearer
        case other(Substring)
    }

    /// `Scheme credentials`: the scheme (any case) up to the first space, and what follows that
    /// space; `nil` when either is missing. Leading spaces are skipped.
    static func schemeAndCredentials(_ header: Substring) -> (Scheme, Substring)? {
        ASCIIBytes.with(header) { bytes in
            var start = 0
            while start < bytes.count, bytes.bytes[start] == UInt8(ascii: " ") { start += 1 }
            guard let space = bytes.firstIndex(of: UInt8(ascii: " "), from: start), space + 1 < bytes.count else {
                return nil
            }
            let scheme: Scheme =
                if bytes.equalsIgnoringCase(start..<space, "basic") {
                    .basic
                } else if bytes.equalsIgnoringCase(start..<space, "jwt") {
                    .jwt
                } else if bytes.equalsIgnoringCase(start..<space, "bearer") {
                    .bearer
                } else {
                    .other(header.utf8Slice(start..<space))
                }
            return (scheme, header.utf8Suffix(from: space + 1))
        }
    }

    /// Connect JWT, in the order of spec 5.2: parse, find the app by `iss`, signature, times, qsh.
    private func connect(token: String, method: String, target: Substring) async throws -> Authentication {
        if let remembered = verifiedTokens[token], remembered.method == method, remembered.target == target,
            let app = try await store.app(key: remembered.appKey), app.sharedSecret == remembered.sharedSecret,
            app.unusableBecause == nil, let appUser = try await store.user(accountId: app.accountId)
        {
            // Signature and qsh were verified for exactly this request; the time is checked anew.
            do {
                try ConnectJWT.verifyTimes(remembered.token, now: now())
                return .principal(Principal(user: appUser, credential: .connectApp(app)))
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
            if let reason = app.unusableBecause {
                return .failed(explanation: "JWT rejected while finding the app by iss: \(reason)")
            }
            try ConnectJWT.verifySignature(parsed, sharedSecret: app.sharedSecret, appKey: app.key)
            try ConnectJWT.verifyTimes(parsed, now: now())
            try ConnectJWT.verifyQueryStringHash(parsed, method: method, target: target, basePath: basePath)
            guard let appUser = try await store.user(accountId: app.accountId) else {
                return .failed(explanation: "The app user \(app.accountId) of app \(app.key) is missing from the site.")
            }
            verifiedTokens.remember(
                VerifiedToken(
                    token: parsed, appKey: app.key, sharedSecret: app.sharedSecret, method: method, target: target),
                for: token)
            return .principal(Principal(user: appUser, credential: .connectApp(app)))
        } catch let failure as ConnectJWTFailure {
            return .failed(explanation: failure.explanation)
        }
    }

    private func basic(credentials: Substring) async throws -> Authentication {
        let encoded = credentials.trimmingWhitespace()
        if let remembered = verifiedCredentials[encoded],
            let user = try await store.user(accountId: remembered.accountId),
            user.active, user.apiTokenHashes.contains(remembered.tokenHash)
        {
            // The same credentials were verified before and the account still holds that token.
            return .principal(Principal(user: user, credential: .apiToken))
        }
        guard let (email, token) = Self.emailAndToken(encoded) else {
            return .failed(explanation: "The Basic credentials are not base64 of 'email:apiToken'.")
        }
        guard let user = try await store.user(emailAddress: email) else {
            return .failed(
                explanation:
                    "No account on this site has the e-mail address '\(email)'; Basic auth takes the e-mail of the account that owns the API token."
            )
        }
        let tokenHash = APITokens.hash(token)
        guard APITokens.matches(tokenHash: tokenHash, hashes: user.apiTokenHashes) else {
            if APITokens.matches(tokenHash: tokenHash, hashes: user.scopedAPITokens.map(\.hash)) {
                return .gatewayOnly(credential: "Scoped API tokens")
            }
            return .failed(
                explanation:
                    "The API token is not one of \(email)'s tokens; check that the token belongs to this e-mail (a password is not accepted)."
            )
        }
        guard user.active else {
            return .failed(explanation: "The account \(email) is deactivated, and deactivated users cannot sign in.")
        }
        verifiedCredentials.remember(
            RememberedCredentials(accountId: user.accountId, tokenHash: tokenHash), for: encoded)
        return .principal(Principal(user: user, credential: .apiToken))
    }
}

extension Authenticator {
    /// The e-mail address and token of Basic credentials (base64 of `email:token`), if well formed.
    static func emailAndToken(_ encoded: Substring) -> (emailAddress: String, token: String)? {
        guard let data = Data(base64Encoded: String(encoded)), let decoded = String(data: data, encoding: .utf8),
            let colon = decoded.firstIndex(of: ":")
        else { return nil }
        return (String(decoded[..<colon]), String(decoded[decoded.index(after: colon)...]))
    }
}

/// Basic credentials already verified: which account they belong to and the hash of their token,
/// so a repeated header skips base64 and HMAC but still needs the account to hold that token.
struct RememberedCredentials: Sendable {
    let accountId: String
    let tokenHash: String
}

extension Substring {
    /// Without leading and trailing spaces and tabs.
    func trimmingWhitespace() -> Substring {
        var result = self
        while let first = result.first, first == " " || first == "\t" { result.removeFirst() }
        while let last = result.last, last == " " || last == "\t" { result.removeLast() }
        return result
    }
}

/// A Connect JWT whose signature and qsh were verified, with the request it was verified for
/// (a class: the cache hands out a reference rather than copying the claims).
final class VerifiedToken: Sendable {
    let token: ConnectToken
    let appKey: String
    let sharedSecret: String
    let method: String
    let target: Substring

    init(token: ConnectToken, appKey: String, sharedSecret: String, method: String, target: Substring) {
        self.token = token
        self.appKey = appKey
        self.sharedSecret = sharedSecret
        self.method = method
        self.target = target
    }
}

/// A thread-safe dictionary that starts afresh when it reaches its capacity, for caches of
/// verified credentials.
final class BoundedCache<Key: Hashable & Sendable, Value: Sendable>: Sendable {
    private let entries = Mutex<[Key: Value]>([:])
    let capacity: Int

    init(capacity: Int = 10_000) { self.capacity = capacity }

    subscript(key: Key) -> Value? { entries.withLock { $0[key] } }

    func remember(_ value: Value, for key: Key) {
        entries.withLock { entries in
            if entries.count >= capacity { entries.removeAll(keepingCapacity: true) }
            entries[key] = value
        }
    }
}
