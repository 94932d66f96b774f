import Foundation
import Synchronization
import UnderstudyAuth

/// The sign-in sessions of the host pages (spec 15): a random cookie value names a user until it
/// expires (12 hours by the site clock) or the user signs out. Kept in this server's memory, by the
/// hash of the value; a restarted server forgets them, and so does each server of a shared database.
final class SessionRegistry: Sendable {
    static let cookieName = "understudy_session"
    static let lifetime: TimeInterval = 12 * 3600
    /// Beyond this many live sessions the oldest go first, so that a loop signing in cannot grow
    /// the server without bound.
    static let capacity = 10_000

    struct Session: Sendable {
        let accountId: String
        let expiresAt: Date
    }

    private let sessions = Mutex<[String: Session]>([:])

    /// A new session for `accountId`; returns the cookie's value.
    func start(accountId: String, now: Date) -> String {
        let value = APITokens.randomBase64URL(byteCount: 32)
        let session = Session(accountId: accountId, expiresAt: now.addingTimeInterval(Self.lifetime))
        sessions.withLock { sessions in
            if sessions.count >= Self.capacity {
                sessions = sessions.filter { $0.value.expiresAt > now }
                while sessions.count >= Self.capacity,
                    let oldest = sessions.min(by: { $0.value.expiresAt < $1.value.expiresAt })
                {
                    sessions[oldest.key] = nil
                }
            }
            sessions[APITokens.hash(value)] = session
        }
        return value
    }

    /// What became of the session a cookie names.
    enum Lookup: Sendable, Equatable {
        case signedIn(accountId: String)
        case expired(at: Date)
        case unknown
    }

    func lookup(_ value: String, now: Date) -> Lookup {
        let key = APITokens.hash(value)
        return sessions.withLock { sessions in
            guard let session = sessions[key] else { return .unknown }
            guard session.expiresAt > now else { return .expired(at: session.expiresAt) }
            return .signedIn(accountId: session.accountId)
        }
    }

    func end(_ value: String) {
        let key = APITokens.hash(value)
        _ = sessions.withLock { $0.removeValue(forKey: key) }
    }

    /// `Set-Cookie` for a session: HttpOnly (never readable by a page's script), SameSite=Lax.
    static func setCookie(_ value: String, secure: Bool) -> String {
        "\(cookieName)=\(value); Path=/; HttpOnly; SameSite=Lax\(secure ? "; Secure" : "")"
    }

    static func clearCookie(secure: Bool) -> String {
        "\(cookieName)=; Path=/; Max-Age=0; HttpOnly; SameSite=Lax\(secure ? "; Secure" : "")"
    }
}
