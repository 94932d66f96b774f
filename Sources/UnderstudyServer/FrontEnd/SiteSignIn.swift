import UnderstudyAuth
import UnderstudyCore

/// Signing in as a person of the site with an e-mail address and a classic API token, as the
/// sign-in page (spec 15) and the OAuth consent page (spec 9.2) both do.
enum SiteSignIn {
    enum Outcome {
        case person(User)
        /// `problem` is for the form, `explanation` for the header and log.
        case refused(problem: String, explanation: String)
    }

    static func person(email: String, apiToken: String, store: any SiteStore) async throws -> Outcome {
        guard let user = try await store.user(emailAddress: email), user.accountType == .atlassian,
            APITokens.matches(tokenHash: APITokens.hash(apiToken), hashes: user.apiTokenHashes)
        else {
            return .refused(
                problem: "That e-mail address and API token do not belong to a user of this site.",
                explanation: "Sign-in failed: no site user has that e-mail address with that (classic) API token.")
        }
        guard user.active else {
            return .refused(
                problem: "This account is deactivated.",
                explanation: "The account \(email) is deactivated and cannot sign in.")
        }
        return .person(user)
    }
}
