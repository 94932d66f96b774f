import HTTPTypes
import UnderstudyCore

/// A refusal as Jira sends it: status, body and headers, plus Understudy's explanation. Every
/// error response is built from one of these, in one place (`JiraResponses.failure`).
struct JiraFailure: Error {
    enum Body {
        /// `{"errorMessages": [...], "errors": {...}}`
        case errorCollection(messages: [String], errors: [(String, String)] = [])
        /// No body at all (Jira's `405`).
        case empty
        /// `{"message": "...", "statusCode": n}`, the body of Connect's app-property resource.
        case appMessage(String)
        /// `{"code": n, "message": "..."}`, the API gateway's envelope (spec 8.1).
        case gateway(String)
        /// `{"error": "...", "error_description": "..."}`, the authorization server's (spec 9.3).
        case oauthError(error: String, description: String)
    }

    var status: HTTPResponse.Status
    var body: Body
    var explanation: String
    var headers: HTTPFields = [:]

    init(_ status: HTTPResponse.Status, message: String, explanation: String) {
        self.status = status
        self.body = .errorCollection(messages: [message])
        self.explanation = explanation
    }

    init(status: HTTPResponse.Status, body: Body, explanation: String, headers: HTTPFields = [:]) {
        self.status = status
        self.body = body
        self.explanation = explanation
        self.headers = headers
    }

    static let notAuthenticatedMessage =
        "You are not authenticated. Authentication required to perform this operation."
    static let notAnAppMessage = "Access to this resource must be authenticated as an app."
    static let scopeMessage = "Request not in an authorized API scope"

    /// The same refusal in the `{"message", "statusCode"}` shape of the app-property resource.
    func asAppMessage() -> JiraFailure {
        guard case .errorCollection(let messages, _) = body else { return self }
        return JiraFailure(
            status: status, body: .appMessage(messages.first ?? ""), explanation: explanation, headers: headers)
    }

    static let failureCategoryHeader = HTTPField.Name("x-failure-category")!

    /// The gateway's `401 {"code":401,"message":"Unauthorized"}`: no credentials, or bad ones.
    static func gatewayUnauthorized(_ explanation: String) -> JiraFailure {
        JiraFailure(status: .unauthorized, body: .gateway("Unauthorized"), explanation: explanation)
    }

    /// The gateway's scope mismatch, which also answers routes it does not know (spec 8.1).
    static func scopeMismatch(_ explanation: String) -> JiraFailure {
        var headers = HTTPFields()
        headers[failureCategoryHeader] = "FAILURE_CLIENT_SCOPE_CHECK"
        return JiraFailure(
            status: .unauthorized, body: .gateway("Unauthorized; scope does not match"), explanation: explanation,
            headers: headers)
    }

    /// `400` for a query string that does not decode.
    static func malformedQuery(_ error: PercentEncoding.DecodingError) -> JiraFailure {
        JiraFailure(
            .badRequest, message: "The query string is not valid.",
            explanation:
                "The query string has a malformed percent-escape or is not UTF-8 (\(error.text.prefix(80))); encode every reserved or non-ASCII character as %XX of its UTF-8 bytes."
        )
    }

    /// `503` while the database cannot be reached: the request changed nothing and may be retried.
    static func storeUnavailable(_ reason: String) -> JiraFailure {
        var headers = HTTPFields()
        headers[.retryAfter] = "1"
        return JiraFailure(
            status: .serviceUnavailable,
            body: .errorCollection(messages: ["The service is temporarily unavailable. Please try again later."]),
            explanation:
                "Understudy's database is unavailable (\(reason)); nothing was changed. Retry shortly: service resumes by itself when the database is back.",
            headers: headers)
    }

    /// `405` with `Allow` listing what the resource supports.
    static func methodNotAllowed(_ method: HTTPRequest.Method, route: Route) -> JiraFailure {
        let allowed = route.allowedMethods.map(\.rawValue).joined(separator: ", ")
        var explanation = "\(method.rawValue) is not an operation of this resource; it supports \(allowed)."
        if case .userProperty = route, method == .post {
            explanation = "POST is not an operation of this resource; to create or update a user property use PUT."
        }
        var headers = HTTPFields()
        headers[.allow] = allowed
        return JiraFailure(status: .methodNotAllowed, body: .empty, explanation: explanation, headers: headers)
    }
}

extension UserPropertyError {
    /// The one place a user-property refusal gets its HTTP status.
    var failure: JiraFailure {
        let status: HTTPResponse.Status =
            switch self {
            case .accountIdMissing, .unsupportedParameter, .accountIdTooLong, .valueTooLong, .emptyValue, .invalidJSON,
                .keyTooLong, .keyNotStorable:
                .badRequest
            case .unknownUser, .propertyNotSet: .notFound
            case .noJiraAccess, .notAdministrator: .forbidden
            }
        return JiraFailure(status, message: message, explanation: explanation)
    }
}

extension AppPropertyError {
    /// The one place an app-property refusal gets its HTTP status.
    var failure: JiraFailure {
        let status: HTTPResponse.Status =
            switch self {
            case .otherApp, .propertyNotSet: .notFound
            case .keyTooLong, .keyNotStorable, .valueTooLong, .emptyValue, .invalidJSON: .badRequest
            }
        return JiraFailure(status: status, body: .appMessage(message), explanation: explanation)
    }
}
