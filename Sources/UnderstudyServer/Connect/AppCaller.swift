import AsyncHTTPClient
import Foundation
import NIOCore
import NIOHTTP1
import NIOPosix

/// Understudy's calls out to a Connect app, as Jira makes them: the descriptor and the lifecycle
/// events. Every call is bounded — 10 seconds in all, redirects followed only on the same origin
/// (and only for the descriptor), response bodies read up to a limit — so a slow or hostile app
/// delays only its own install, never the server or other requests.
struct AppCaller: Sendable {
    static let timeout: TimeAmount = .seconds(10)
    static let maximumDescriptorBytes = 1024 * 1024
    /// How much of a lifecycle answer is read; the result keeps its first 500 bytes.
    static let maximumAnswerBytes = 64 * 1024
    static let keptAnswerBytes = 500
    static let maximumRedirects = 5

    /// One client for the process, with redirects off: the caller decides which to follow.
    static let client = HTTPClient(
        eventLoopGroupProvider: .singleton,
        configuration: HTTPClient.Configuration(
            redirectConfiguration: .disallow,
            timeout: .init(connect: .seconds(10), read: .seconds(10)),
            connectionPool: .init(idleTimeout: .seconds(5))))

    /// What an app answered.
    struct Answer: Sendable {
        let status: Int
        let body: [UInt8]
        let duration: Duration
        /// The first 500 bytes of the body, as text, for a result to show.
        var bodyExcerpt: String {
            String(decoding: body.prefix(AppCaller.keptAnswerBytes), as: UTF8.self)
        }
    }

    /// Why a call got no answer.
    struct Failure: Error, Sendable {
        let reason: String
        let duration: Duration
    }

    /// `GET url`, following redirects on the same scheme, host and port; the body up to
    /// `maximumDescriptorBytes` (more is a failure: no descriptor is that large).
    func fetchDescriptor(_ url: String) async -> Result<Answer, Failure> {
        let started = ContinuousClock.now
        let deadline = NIODeadline.now() + Self.timeout
        var current = url
        for _ in 0...Self.maximumRedirects {
            guard let origin = Self.origin(of: current) else {
                return .failure(Failure(reason: "\(current) is not an http or https URL", duration: .zero))
            }
            if let refused = await Self.refusal(of: current) {
                return .failure(Failure(reason: refused, duration: ContinuousClock.now - started))
            }
            var request = HTTPClientRequest(url: current)
            request.method = .GET
            request.headers.add(name: "Accept", value: "application/json")
            do {
                let response = try await Self.client.execute(request, deadline: deadline)
                let status = Int(response.status.code)
                if (300..<400).contains(status), let location = response.headers.first(name: "Location") {
                    let next = Self.resolve(location, against: current)
                    guard let next, Self.origin(of: next) == origin else {
                        return .failure(
                            Failure(
                                reason:
                                    "\(current) redirects to \(location), another host; Understudy follows redirects only on the same host",
                                duration: ContinuousClock.now - started))
                    }
                    current = next
                    continue
                }
                let body: ByteBuffer
                do {
                    body = try await response.body.collect(upTo: Self.maximumDescriptorBytes)
                } catch is NIOTooManyBytesError {
                    return .failure(
                        Failure(
                            reason: "the descriptor is larger than \(Self.maximumDescriptorBytes) bytes",
                            duration: ContinuousClock.now - started))
                }
                return .success(
                    Answer(status: status, body: Array(body.readableBytesView), duration: ContinuousClock.now - started)
                )
            } catch {
                return .failure(
                    Failure(reason: Self.describe(error, url: current), duration: ContinuousClock.now - started))
            }
        }
        return .failure(
            Failure(
                reason: "\(url) redirects more than \(Self.maximumRedirects) times",
                duration: ContinuousClock.now - started))
    }

    /// `POST url` with a JSON body and, when given, `Authorization: JWT token`. Redirects are not
    /// followed (Jira does not re-send a lifecycle event elsewhere): a 3xx is the app's answer.
    func postLifecycle(_ url: String, token: String?, body: [UInt8]) async -> Result<Answer, Failure> {
        let started = ContinuousClock.now
        guard Self.origin(of: url) != nil else {
            return .failure(Failure(reason: "\(url) is not an http or https URL", duration: .zero))
        }
        if let refused = await Self.refusal(of: url) {
            return .failure(Failure(reason: refused, duration: ContinuousClock.now - started))
        }
        var request = HTTPClientRequest(url: url)
        request.method = .POST
        request.headers.add(name: "Content-Type", value: "application/json")
        request.headers.add(name: "Accept", value: "application/json")
        request.headers.add(name: "User-Agent", value: "Understudy/\(UnderstudyVersion.current) (Atlassian Connect)")
        if let token { request.headers.add(name: "Authorization", value: "JWT \(token)") }
        request.body = .bytes(ByteBuffer(bytes: body))
        do {
            let response = try await Self.client.execute(request, deadline: NIODeadline.now() + Self.timeout)
            var kept: [UInt8] = []
            for try await chunk in response.body {
                kept.append(contentsOf: chunk.readableBytesView.prefix(Self.maximumAnswerBytes - kept.count))
                if kept.count >= Self.maximumAnswerBytes { break }
            }
            return .success(
                Answer(status: Int(response.status.code), body: kept, duration: ContinuousClock.now - started))
        } catch {
            return .failure(Failure(reason: Self.describe(error, url: url), duration: ContinuousClock.now - started))
        }
    }

    /// Why nothing will answer at `url`'s host and port, found by opening a TCP connection first:
    /// AsyncHTTPClient retries refused connections until the deadline, and "nothing is listening"
    /// should be said at once, not after 10 s. `nil` when the port accepts connections (or the
    /// probe cannot tell, and the request itself will).
    static func refusal(of url: String) async -> String? {
        guard let components = URLComponents(string: url), let host = components.host,
            let scheme = components.scheme?.lowercased()
        else { return nil }
        let port = components.port ?? (scheme == "https" ? 443 : 80)
        let bootstrap = ClientBootstrap(group: MultiThreadedEventLoopGroup.singleton)
            .connectTimeout(.seconds(10))
        do {
            let channel = try await bootstrap.connect(host: host, port: port).get()
            try? await channel.close()
            return nil
        } catch let error as IOError where error.errnoCode == ECONNREFUSED {
            return "nothing is listening at \(url) (connection refused)"
        } catch let error as NIOConnectionError
            where error.connectionErrors.contains(where: { ($0.error as? IOError)?.errnoCode == ECONNREFUSED })
        {
            return "nothing is listening at \(url) (connection refused)"
        } catch is ChannelError {
            return "\(url) did not accept a connection within 10 s"
        } catch {
            return nil
        }
    }

    /// `scheme://host:port`, lower case, with the default port made explicit.
    static func origin(of url: String) -> String? {
        guard let components = URLComponents(string: url), let scheme = components.scheme?.lowercased(),
            scheme == "http" || scheme == "https", let host = components.host?.lowercased(), !host.isEmpty
        else { return nil }
        return "\(scheme)://\(host):\(components.port ?? (scheme == "https" ? 443 : 80))"
    }

    static func resolve(_ location: String, against base: String) -> String? {
        guard let baseURL = URL(string: base), let resolved = URL(string: location, relativeTo: baseURL) else {
            return nil
        }
        return resolved.absoluteString
    }

    /// A failure in the words a developer looks for: refused, timed out, or what went wrong.
    static func describe(_ error: any Error, url: String) -> String {
        if let clientError = error as? HTTPClientError {
            switch clientError {
            case .deadlineExceeded, .readTimeout, .connectTimeout:
                return "\(url) did not answer within 10 s"
            case .remoteConnectionClosed:
                return "\(url) closed the connection without answering"
            default: break
            }
        }
        let text = String(describing: error)
        if text.contains("connectTimeout") || text.contains("deadlineExceeded") {
            return "\(url) did not answer within 10 s"
        }
        if text.contains("refused") || text.contains("ECONNREFUSED") {
            return "nothing is listening at \(url) (connection refused)"
        }
        return "\(url) could not be reached: \(text)"
    }
}
