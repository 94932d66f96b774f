import HTTPTypes
import Hummingbird
import NIOCore
import UnderstudyCore

/// Builds Jira's responses with the headers every response carries (spec 1).
struct ResponseBuilder {
    static let jsonContentType = "application/json;charset=UTF-8"
    static let neverCache = "no-cache, no-store, no-transform"
    static let explainHeader = HTTPField.Name("X-Understudy-Explain")!
    static let requestIdHeader = HTTPField.Name("X-AREQUESTID")!
    static let accountIdHeader = HTTPField.Name("X-AAccountId")!
    static let loginReasonHeader = HTTPField.Name("X-Seraph-LoginReason")!

    let requestId: String
    let explain: Bool
    /// Who is calling, as the request journal records it; its account is sent as `X-AAccountId`.
    var caller: JournalEntry.Caller = .anonymous
    var neverCache = false
    var authenticationFailed = false
    /// Set when the request body was not read to its end: the connection must not be reused.
    var closeConnection = false

    /// Records who is calling, for `X-AAccountId` and the request journal.
    mutating func identify(_ principal: Principal) {
        caller = JournalEntry.Caller(principal)
    }

    func json(_ status: HTTPResponse.Status = .ok, _ text: String, explanation: String? = nil) -> Response {
        json(status, ByteBuffer(string: text), explanation: explanation)
    }

    func json(_ status: HTTPResponse.Status = .ok, _ body: ByteBuffer, explanation: String? = nil) -> Response {
        var headers = baseHeaders(explanation: explanation)
        headers.append(HTTPField(name: .contentType, value: Self.jsonContentType))
        return Response(status: status, headers: headers, body: .init(byteBuffer: body))
    }

    func json(_ status: HTTPResponse.Status = .ok, _ value: JSONValue, explanation: String? = nil) -> Response {
        json(status, value.jsonText, explanation: explanation)
    }

    func empty(_ status: HTTPResponse.Status) -> Response {
        Response(status: status, headers: baseHeaders(explanation: nil))
    }

    func failure(_ failure: JiraFailure) -> Response {
        var headers = baseHeaders(explanation: failure.explanation)
        headers.append(contentsOf: failure.headers)
        switch failure.body {
        case .empty:
            return Response(status: failure.status, headers: headers)
        case .appMessage(let message):
            return jsonFailure(
                failure.status, headers: headers,
                .object([
                    JSONMember("message", .string(message)),
                    JSONMember("statusCode", .number(String(failure.status.code))),
                ]))
        case .gateway(let message):
            return jsonFailure(
                failure.status, headers: headers,
                .object([
                    JSONMember("code", .number(String(failure.status.code))), JSONMember("message", .string(message)),
                ]))
        case .oauthError(let error, let description):
            headers[.cacheControl] = "no-store"
            headers[HTTPField.Name("Pragma")!] = "no-cache"
            return jsonFailure(
                failure.status, headers: headers,
                .object([JSONMember("error", .string(error)), JSONMember("error_description", .string(description))]))
        case .errorCollection(let messages, let errors):
            return jsonFailure(
                failure.status, headers: headers,
                .object([
                    JSONMember("errorMessages", .array(messages.map(JSONValue.string))),
                    JSONMember("errors", .object(errors.map { JSONMember($0.0, .string($0.1)) })),
                ]))
        }
    }

    private func jsonFailure(_ status: HTTPResponse.Status, headers: HTTPFields, _ body: JSONValue) -> Response {
        var headers = headers
        headers[.contentType] = Self.jsonContentType
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: body.jsonText)))
    }

    /// A server-rendered page (the consent page and its errors): no caching, no framing, no script,
    /// styles only from the page itself.
    func html(_ status: HTTPResponse.Status, _ page: String, explanation: String? = nil) -> Response {
        var headers = baseHeaders(explanation: explanation)
        headers.append(HTTPField(name: .contentType, value: "text/html;charset=UTF-8"))
        headers.append(HTTPField(name: .cacheControl, value: "no-store"))
        headers.append(HTTPField(name: .contentSecurityPolicy, value: Self.pagePolicy))
        headers.append(HTTPField(name: Self.frameOptionsHeader, value: "DENY"))
        headers.append(HTTPField(name: Self.referrerPolicyHeader, value: "no-referrer"))
        return Response(status: status, headers: headers, body: .init(byteBuffer: ByteBuffer(string: page)))
    }

    static let pagePolicy =
        "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'"
    static let frameOptionsHeader = HTTPField.Name("X-Frame-Options")!
    static let referrerPolicyHeader = HTTPField.Name("Referrer-Policy")!

    /// A `302` to `location` (the authorization server's answer to the app), or `status`.
    func redirect(to location: String, status: HTTPResponse.Status = .found, explanation: String? = nil) -> Response {
        var headers = baseHeaders(explanation: explanation)
        headers.append(HTTPField(name: .location, value: location))
        headers.append(HTTPField(name: .cacheControl, value: "no-store"))
        return Response(status: status, headers: headers)
    }

    // Fields are appended rather than assigned: each name occurs once, and assigning searches the
    // fields already there.
    private func baseHeaders(explanation: String?) -> HTTPFields {
        var headers = HTTPFields()
        headers.reserveCapacity(6)
        headers.append(HTTPField(name: Self.requestIdHeader, value: requestId))
        if let accountId = caller.accountId { headers.append(HTTPField(name: Self.accountIdHeader, value: accountId)) }
        if neverCache { headers.append(HTTPField(name: .cacheControl, value: Self.neverCache)) }
        if authenticationFailed {
            headers.append(HTTPField(name: Self.loginReasonHeader, value: "AUTHENTICATED_FAILED"))
        }
        if closeConnection { headers.append(HTTPField(name: .connection, value: "close")) }
        if explain, let explanation {
            headers.append(HTTPField(name: Self.explainHeader, value: Self.headerSafe(explanation)))
        }
        return headers
    }

    /// An explanation as an ASCII header value: other characters (and controls) become the
    /// percent-encoding of their UTF-8 bytes.
    static func headerSafe(_ text: String) -> String {
        PercentEncoding.encode(text) { $0 >= 0x20 && $0 < 0x7F }
    }
}
