import Crypto
import Foundation
import UnderstudyCore
import _CryptoExtras

/// Signs the JWTs Jira puts on the lifecycle calls it makes to a Connect app (spec 13.2): RS256
/// with the site's install key for `installed` and `uninstalled`, HS256 with the shared secret for
/// `enabled`, `disabled` and legacy installs, with the claims Jira sends and, on request, one of
/// the tamperings of spec 13.3.
public enum ConnectLifecycleJWT {
    /// Seconds between `iat` and `exp`, as on Jira's lifecycle tokens.
    public static let lifetime: Int64 = 900

    /// How a token is signed.
    public enum Signer: Sendable {
        /// RS256 with the site's install key; `kid` names it.
        case installKey(ConnectInstallKey)
        /// HS256 with a shared secret.
        case sharedSecret(String)
    }

    /// What the claims of one lifecycle call say.
    public struct Call: Sendable {
        /// The installation's clientKey (`iss`).
        public var clientKey: String
        /// The descriptor's baseUrl (`aud[0]` on RS256 tokens; the qsh path is relative to its path).
        public var appBaseUrl: String
        /// The lifecycle path from the descriptor, relative to `appBaseUrl`.
        public var lifecyclePath: String
        /// The accountId of the administrator who installed (`sub`).
        public var subject: String

        public init(clientKey: String, appBaseUrl: String, lifecyclePath: String, subject: String) {
            self.clientKey = clientKey
            self.appBaseUrl = appBaseUrl
            self.lifecyclePath = lifecyclePath
            self.subject = subject
        }

        /// The `qsh` Jira computes: `POST&<path relative to the baseUrl's path>&<query>`.
        public func queryStringHash(method: String = "POST") -> String {
            let basePath = Self.path(of: appBaseUrl)
            return CanonicalRequest(method: method, target: Substring(basePath + lifecyclePath), basePath: basePath)
                .queryStringHash
        }

        /// The path part of an http(s) URL, `""` when it has none.
        static func path(of url: String) -> String {
            guard let schemeEnd = url.range(of: "://") else { return "" }
            let afterScheme = url[schemeEnd.upperBound...]
            guard let slash = afterScheme.firstIndex(of: "/") else { return "" }
            var path = String(afterScheme[slash...])
            while path.hasSuffix("/") { path.removeLast() }
            return path
        }
    }

    /// A new RSA key pair (2048 bits) with a UUID kid, for the site to sign installs with.
    public static func makeInstallKey(now: Date) throws -> ConnectInstallKey {
        let key = try _RSA.Signing.PrivateKey(keySize: .bits2048)
        return ConnectInstallKey(
            kid: UUID().uuidString.lowercased(), publicKeyPEM: key.publicKey.pemRepresentation,
            privateKeyPEM: key.pemRepresentation, createdAt: now)
    }

    /// The token for one call, or `nil` when the call goes without one (`.unsigned`).
    ///
    /// - Parameter tamper: the deliberate fault (spec 13.3); `.symmetric` needs `sharedSecret`.
    public static func token(
        for call: Call, signer: Signer, now: Date, tamper: ConnectLifecycleTamper? = nil, sharedSecret: String? = nil
    ) throws -> String? {
        var signer = signer
        var issuedAt = Int64(now.timeIntervalSince1970)
        var issuer = call.clientKey
        var queryStringHash = call.queryStringHash()
        var audience: String? = nil
        if case .installKey = signer { audience = call.appBaseUrl }
        var kidOverride: String?
        switch tamper {
        case nil: break
        case .unsigned?: return nil
        case .expired?: issuedAt -= 2 * lifetime
        case .wrongAudience?: audience = "https://another-app.example.com"
        case .wrongQueryStringHash?: queryStringHash = call.queryStringHash(method: "GET")
        case .unknownKid?: kidOverride = UUID().uuidString.lowercased()
        case .wrongIssuer?: issuer = UUID().uuidString.lowercased()
        case .contextQueryStringHash?: queryStringHash = "context-qsh"
        case .symmetric?:
            signer = .sharedSecret(sharedSecret ?? "")
            audience = nil
        }
        var claims = "{\"iss\":"
        JSONValue.writeString(issuer, to: &claims)
        claims += ",\"sub\":"
        JSONValue.writeString(call.subject, to: &claims)
        if let audience {
            claims += ",\"aud\":["
            JSONValue.writeString(audience, to: &claims)
            claims += "]"
        }
        claims += ",\"qsh\":\"\(queryStringHash)\",\"iat\":\(issuedAt),\"exp\":\(issuedAt + lifetime),\"context\":{}}"

        switch signer {
        case .installKey(let key):
            var header = "{\"alg\":\"RS256\",\"typ\":\"JWT\",\"kid\":"
            JSONValue.writeString(kidOverride ?? key.kid, to: &header)
            header += "}"
            let signingInput =
                ConnectJWT.base64URLEncode(Array(header.utf8)) + "." + ConnectJWT.base64URLEncode(Array(claims.utf8))
            let privateKey = try _RSA.Signing.PrivateKey(pemRepresentation: key.privateKeyPEM)
            let signature = try privateKey.signature(for: Array(signingInput.utf8), padding: .insecurePKCS1v1_5)
            return signingInput + "." + ConnectJWT.base64URLEncode(signature.rawRepresentation)
        case .sharedSecret(let secret):
            return ConnectJWT.signHS256(claims: claims, sharedSecret: secret)
        }
    }

    /// Whether `token` carries a valid RS256 signature by `publicKeyPEM`: for tests and for the
    /// console's own check of the key it serves.
    public static func verifiesRS256(_ token: String, publicKeyPEM: String) -> Bool {
        let segments = token.split(separator: ".", omittingEmptySubsequences: false)
        guard segments.count == 3, let signature = ConnectJWT.base64URLDecode(segments[2]),
            let key = try? _RSA.Signing.PublicKey(pemRepresentation: publicKeyPEM)
        else { return false }
        let signingInput = Array((segments[0] + "." + segments[1]).utf8)
        return key.isValidSignature(
            _RSA.Signing.RSASignature(rawRepresentation: signature), for: signingInput, padding: .insecurePKCS1v1_5)
    }
}
