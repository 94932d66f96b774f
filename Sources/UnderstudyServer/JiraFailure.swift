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
                .keyTooLong:
                .badRequest
            case .unknownUser, .propertyNotSet: .notFound
            case .noJiraAccess, .notAdministrator: .forbidden
            }
        return JiraFailure(status, message: message, explanation: explanation)
    }
}
