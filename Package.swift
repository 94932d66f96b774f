// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
]

let package = Package(
    name: "understudy",
    platforms: [.macOS(.v15)],
    products: [
        .executable(name: "understudy", targets: ["understudy"]),
        .library(name: "UnderstudyCore", targets: ["UnderstudyCore"]),
        .library(name: "UnderstudyAuth", targets: ["UnderstudyAuth"]),
        .library(name: "UnderstudyServer", targets: ["UnderstudyServer"]),
        .library(name: "UnderstudyClient", targets: ["UnderstudyClient"]),
        .library(name: "UnderstudyTesting", targets: ["UnderstudyTesting"]),
    ],
    dependencies: [
        .package(url: "https://github.com/hummingbird-project/hummingbird.git", from: "2.28.1"),
        .package(url: "https://github.com/vapor/sqlite-nio.git", from: "1.13.2"),
        .package(url: "https://github.com/apple/swift-crypto.git", from: "3.12.3"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-nio-extras.git", from: "1.35.2"),
        .package(url: "https://github.com/vapor/postgres-nio.git", from: "1.33.2"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.37.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
    ],
    targets: [
        // The domain: users, permissions, properties, validation, store protocols. Foundation only.
        .target(name: "UnderstudyCore", swiftSettings: swiftSettings),
        // API-token hashing, Connect JWTs (checked and, for lifecycle calls, signed). No HTTP.
        .target(
            name: "UnderstudyAuth",
            dependencies: [
                "UnderstudyCore",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "_CryptoExtras", package: "swift-crypto"),
            ],
            swiftSettings: swiftSettings
        ),
        // The embedded default store. sqlite-nio brings the SQLite library (its VaporCSQLite module),
        // which the store calls directly.
        .target(
            name: "UnderstudySQLite",
            dependencies: [
                "UnderstudyCore",
                .product(name: "SQLiteNIO", package: "sqlite-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // The shared store for several servers over one database: postgres-nio's connection pool,
        // and a small pipelined client of its own for the hot property statements.
        .target(
            name: "UnderstudyPostgres",
            dependencies: [
                "UnderstudyCore",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // Jira's HTTP surface on Hummingbird.
        .target(
            name: "UnderstudyServer",
            dependencies: [
                "UnderstudyCore",
                "UnderstudyAuth",
                "UnderstudySQLite",
                "UnderstudyPostgres",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTPTypes", package: "swift-nio-extras"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        // A client for Jira Cloud's property APIs (AsyncHTTPClient); shares the qsh canonicaliser.
        .target(
            name: "UnderstudyClient",
            dependencies: [
                "UnderstudyCore",
                "UnderstudyAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        // Understudy inside a Swift test process: a site built in code, on a free port.
        .target(
            name: "UnderstudyTesting",
            dependencies: [
                "UnderstudyServer",
                "UnderstudyCore",
                "UnderstudyAuth",
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        // The command line: subcommands that parse arguments and call library code.
        .target(
            name: "UnderstudyCLI",
            dependencies: [
                "UnderstudyServer",
                "UnderstudyCore",
                "UnderstudyAuth",
                "UnderstudyClient",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .executableTarget(name: "understudy", dependencies: ["UnderstudyCLI"], swiftSettings: swiftSettings),
        .testTarget(name: "UnderstudyCoreTests", dependencies: ["UnderstudyCore"], swiftSettings: swiftSettings),
        .testTarget(
            name: "UnderstudyAuthTests", dependencies: ["UnderstudyAuth", "UnderstudyCore"],
            swiftSettings: swiftSettings),
        .testTarget(
            name: "UnderstudySQLiteTests",
            dependencies: [
                "UnderstudyCore", "UnderstudySQLite", "UnderstudyPostgres", "UnderstudyAuth",
                .product(name: "PostgresNIO", package: "postgres-nio"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnderstudyServerTests",
            dependencies: [
                "UnderstudyServer",
                "UnderstudyAuth",
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "HummingbirdTesting", package: "hummingbird"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnderstudyClientTests",
            dependencies: [
                "UnderstudyClient", "UnderstudyTesting", "UnderstudyCore", "UnderstudyAuth",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Hummingbird", package: "hummingbird"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "UnderstudyCLITests", dependencies: ["UnderstudyCLI", "understudy"], swiftSettings: swiftSettings),
    ]
)
