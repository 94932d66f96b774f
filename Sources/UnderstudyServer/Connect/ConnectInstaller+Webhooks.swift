import Foundation
import UnderstudyAuth
import UnderstudyCore

/// The user webhooks of spec 14: when the site's people change, every installed Connect app that
/// declares a webhook for the event gets `POST {baseUrl}{url}`, HS256-signed with its shared
/// secret, best effort (no retry), each delivery in the journal.
extension ConnectInstaller {
    /// Sends `changes` to the apps of `apps` that want them; returns once every delivery has ended.
    func deliver(_ changes: [UserChange], to apps: [ConnectApp]) async {
        let site = address.baseURL
        await withTaskGroup(of: Void.self) { group in
            for app in apps {
                guard let installation = app.installation, installation.state == .installed else { continue }
                for change in changes {
                    for webhook in installation.webhooks where webhook.event == change.kind.rawValue {
                        group.addTask {
                            await send(change, to: app, webhook: webhook, baseUrl: installation.baseUrl, site: site)
                        }
                    }
                }
            }
        }
    }

    private func send(_ change: UserChange, to app: ConnectApp, webhook: ConnectWebhook, baseUrl: String, site: String)
        async
    {
        let url = baseUrl + webhook.url
        let sentAt = now()
        let body = JSONValue.object([
            JSONMember("timestamp", .number(String(Int64((sentAt.timeIntervalSince1970 * 1000).rounded())))),
            JSONMember("webhookEvent", .string(change.kind.rawValue)),
            JSONMember(
                "user",
                .object([
                    JSONMember(
                        "self",
                        .string(
                            "\(site)/rest/api/2/user?accountId=\(PercentEncoding.encode(change.user.accountId))")),
                    JSONMember("accountId", .string(change.user.accountId)),
                    JSONMember("displayName", .string(change.user.displayName)),
                    JSONMember("accountType", .string("atlassian")), JSONMember("active", .bool(change.user.active)),
                ])),
        ])
        let token =
            app.installation?.authentication == "none"
            ? nil
            : try? ConnectLifecycleJWT.token(
                for: ConnectLifecycleJWT.Call(
                    clientKey: app.clientKey, appBaseUrl: baseUrl, lifecyclePath: webhook.url,
                    subject: app.installation?.installedBy ?? ""),
                signer: .sharedSecret(app.sharedSecret), now: sentAt)
        let outcome = await caller.postLifecycle(url, token: token, body: Array(body.jsonText.utf8))
        var status = 0
        var explanation: String?
        var duration = Duration.zero
        switch outcome {
        case .success(let answer):
            status = answer.status
            duration = answer.duration
            if !(200..<300).contains(status) { explanation = "\(change.kind.rawValue): the app answered \(status)" }
        case .failure(let failure):
            duration = failure.duration
            explanation = "\(change.kind.rawValue): \(failure.reason)"
        }
        recordCall(
            to: url, of: app, at: sentAt, status: status, explanation: explanation, duration: duration,
            kind: "webhook-\(change.kind.rawValue)")
    }
}
