import Foundation
import HTTPTypes
import Hummingbird
import UnderstudyCore

/// Sessions for the host pages without a sign-in form (spec 15): `POST /_understudy/sessions` for
/// test suites, and the console's "open as" buttons.
extension ControlPlane {
    /// `{"accountId": …}` → `201 {"cookie": "understudy_session=…", "accountId", "expiresAt"}`.
    func startSession(_ body: JSONValue, builder: ResponseBuilder) async throws -> Response {
        guard case .string(let accountId)? = body["accountId"] else {
            throw ControlRequestError.badRequest(
                "A session is started for {\"accountId\": \"…\"}: the person the pages act as.")
        }
        let user = try await sessionUser(accountId)
        let now = clock.now()
        let value = sessions.start(accountId: user.accountId, now: now)
        return builder.json(
            .created,
            .object([
                JSONMember("cookie", .string("\(SessionRegistry.cookieName)=\(value)")),
                JSONMember("accountId", .string(user.accountId)),
                JSONMember(
                    "expiresAt",
                    .string(JournalEntry.timeFormat.format(now.addingTimeInterval(SessionRegistry.lifetime)))),
            ]))
    }

    /// The console's "open as": a form with `accountId` and `next`, answered with the session's cookie
    /// and a redirect to the page.
    func openAs(_ request: Request) async throws -> Response {
        let body = try await request.body.collect(upTo: 16 * 1024)
        let fields: FormFields
        do {
            fields = try FormFields(Substring(String(decoding: body.readableBytesView, as: UTF8.self)))
        } catch {
            throw ControlRequestError.badRequest("The form is not valid form encoding.")
        }
        let user = try await sessionUser(fields.fields["accountId"] ?? "")
        let value = sessions.start(accountId: user.accountId, now: clock.now())
        var headers = HTTPFields()
        headers[.location] = SitePath.redirectTarget(fields.fields["next"])
        headers[.setCookie] = SessionRegistry.setCookie(value, secure: false)
        headers[.cacheControl] = "no-store"
        return Response(status: .seeOther, headers: headers)
    }

    /// The person a session may be for: on the site, a person (not an app user), active.
    private func sessionUser(_ accountId: String) async throws -> User {
        guard let user = try await store.user(accountId: accountId) else {
            throw ControlRequestError(
                status: .notFound, message: "No user of this site has the accountId '\(accountId)'.",
                explanation: "GET /_understudy/snapshot lists the site's users.")
        }
        guard user.accountType == .atlassian else {
            throw ControlRequestError.badRequest(
                "\(accountId) is an app user; a page is opened by a person, who signs in.")
        }
        guard user.active else {
            throw ControlRequestError.badRequest("\(accountId) is deactivated and cannot sign in.")
        }
        return user
    }
}
