import Foundation
import HTTPTypes
import HummingbirdTesting
import Testing
import UnderstudyCore
import UnderstudyServer

#if canImport(Glibc)
    import Glibc
#endif

/// What happens to connections themselves, over a real port.
@Suite("Connections")
struct ConnectionTests {
    /// A TCP connection to 127.0.0.1 that sends nothing.
    static func silentConnection(port: Int) -> Int32 {
        let socketDescriptor = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = in_port_t(UInt16(port).bigEndian)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let connected = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
                connect(socketDescriptor, $0, socklen_t(MemoryLayout<sockaddr_in>.size))
            }
        }
        #expect(connected == 0)
        return socketDescriptor
    }

    /// The start of the answer to `GET /status` sent at once on a new connection. The blocking
    /// exchange runs on a thread of its own: on the concurrency pool it would hold one of its few
    /// threads while the server needs them to answer (two such tests at once on two cores hung CI).
    static func statusOnFreshConnection(port: Int) async -> String {
        await withCheckedContinuation { continuation in
            Thread {
                let fresh = silentConnection(port: port)
                defer { close(fresh) }
                var timeout = timeval(tv_sec: 10, tv_usec: 0)
                setsockopt(fresh, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
                let request = Array("GET /status HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".utf8)
                guard send(fresh, request, request.count, 0) == request.count else {
                    continuation.resume(returning: "")
                    return
                }
                var answer = [UInt8](repeating: 0, count: 512)
                let received = recv(fresh, &answer, answer.count, 0)
                continuation.resume(returning: String(decoding: answer.prefix(max(0, received)), as: UTF8.self))
            }.start()
        }
    }

    /// Whether the server has closed the connection (a read returns end of stream at once).
    static func isClosedByServer(_ socketDescriptor: Int32) -> Bool {
        var byte: UInt8 = 0
        return recv(socketDescriptor, &byte, 1, Int32(MSG_DONTWAIT)) == 0
    }

    @Test("An idle connection is closed after the idle timeout, not before")
    func idleConnectionsAreClosed() async throws {
        var configuration = ServerConfiguration(port: 0, baseURL: TestSite.baseURL)
        configuration.idleTimeout = .milliseconds(500)
        let app = buildApplication(configuration: configuration, store: try await TestSite.store())
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let silent = Self.silentConnection(port: port)
            defer { close(silent) }
            try await Task.sleep(for: .milliseconds(100))
            #expect(!Self.isClosedByServer(silent), "still open well within the timeout")
            var closed = false
            for _ in 0..<40 where !closed {
                try await Task.sleep(for: .milliseconds(100))
                closed = Self.isClosedByServer(silent)
            }
            #expect(closed, "closed after the idle timeout")
            // The server goes on answering new connections (the test client's own idle
            // connection was closed too, so this one is opened by hand).
            let status = await Self.statusOnFreshConnection(port: port)
            #expect(status.hasPrefix("HTTP/1.1 200 OK"))
        }
    }
}

extension ConnectionTests {
    @Test("A request dripped one byte at a time is cut off at the request timeout; the server goes on")
    func slowRequestsAreCutOff() async throws {
        var configuration = ServerConfiguration(port: 0, baseURL: TestSite.baseURL)
        configuration.requestTimeout = .milliseconds(600)
        let app = buildApplication(configuration: configuration, store: try await TestSite.store())
        try await app.test(.live) { client in
            let port = try #require(client.port)
            let slow = Self.silentConnection(port: port)
            defer { close(slow) }
            // Idle before the first byte is the idle timeout's business, not this one's.
            try await Task.sleep(for: .milliseconds(800))
            #expect(!Self.isClosedByServer(slow), "no request started, so no request deadline")
            let request = Array("GET /status HTTP/1.1\r\nHost: x\r\n\r\n".utf8)
            var sent = 0
            var cutOffAfter: Int?
            let started = ContinuousClock.now
            for byte in request where cutOffAfter == nil {
                _ = send(slow, [byte], 1, Int32(MSG_NOSIGNAL))
                sent += 1
                try await Task.sleep(for: .milliseconds(100))
                if Self.isClosedByServer(slow) { cutOffAfter = sent }
            }
            let elapsed = ContinuousClock.now - started
            #expect(cutOffAfter != nil, "closed before the request was complete")
            #expect(elapsed >= .milliseconds(600), "not before the timeout")
            // A request sent at normal speed on a fresh connection is answered.
            let status = await Self.statusOnFreshConnection(port: port)
            #expect(status.hasPrefix("HTTP/1.1 200 OK"))
        }
    }

    @Test("Requests on a kept-alive connection each get the full request timeout")
    func keptAliveConnectionsKeepWorking() async throws {
        var configuration = ServerConfiguration(port: 0, baseURL: TestSite.baseURL)
        configuration.requestTimeout = .milliseconds(400)
        let app = buildApplication(configuration: configuration, store: try await TestSite.store())
        try await app.test(.live) { client in
            for _ in 0..<4 {
                try await client.execute(uri: "/status", method: .get) { #expect($0.status == .ok) }
                try await Task.sleep(for: .milliseconds(250))
            }
        }
    }
}
