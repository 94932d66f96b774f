import Foundation
import UnderstudyCore

/// The tokens Jira gives a Connect app's page (spec 16): the `jwt` on the iframe's URL, whose `qsh`
/// covers that `GET`, and the context token `AP.context.getToken()` returns, whose `qsh` is the fixed
/// `context-qsh`. Both HS256 with the app's shared secret, issued by its clientKey, about the user.
public enum ConnectPageJWT {
    /// Seconds between `iat` and `exp` of the iframe's token, as on Jira's.
    public static let iframeLifetime: Int64 = 180
    /// Seconds between `iat` and `exp` of a context token.
    public static let contextLifetime: Int64 = 900

    /// The token for the iframe URL `target` (path and query, without `jwt`) of an app whose baseUrl
    /// has the path `basePath`.
    public static func iframeToken(
        clientKey: String, sharedSecret: String, accountId: String, target: Substring, basePath: String, now: Date
    ) -> String {
        let qsh = CanonicalRequest(method: "GET", target: target, basePath: basePath).queryStringHash
        return token(
            clientKey: clientKey, sharedSecret: sharedSecret, accountId: accountId, qsh: qsh,
            lifetime: iframeLifetime, now: now)
    }

    public static func contextToken(clientKey: String, sharedSecret: String, accountId: String, now: Date) -> String {
        token(
            clientKey: clientKey, sharedSecret: sharedSecret, accountId: accountId, qsh: "context-qsh",
            lifetime: contextLifetime, now: now)
    }

    private static func token(
        clientKey: String, sharedSecret: String, accountId: String, qsh: String, lifetime: Int64, now: Date
    ) -> String {
        let issuedAt = Int64(now.timeIntervalSince1970)
        var claims = "{\"iss\":"
        JSONValue.writeString(clientKey, to: &claims)
        claims += ",\"sub\":"
        JSONValue.writeString(accountId, to: &claims)
        claims += ",\"qsh\":\"\(qsh)\",\"iat\":\(issuedAt),\"exp\":\(issuedAt + lifetime),\"context\":{}}"
        return ConnectJWT.signHS256(claims: claims, sharedSecret: sharedSecret)
    }
}
