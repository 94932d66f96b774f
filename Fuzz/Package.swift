// swift-tools-version:6.1
// Coverage-guided fuzzing of Understudy's parsers with libFuzzer. Built apart from the main package
// because every module is compiled with the fuzzer's instrumentation; see `Fuzz/run`.
import PackageDescription

let package = Package(
    name: "understudy-fuzz",
    platforms: [.macOS(.v15)],
    dependencies: [.package(name: "understudy", path: "..")],
    targets: [
        .executableTarget(
            name: "understudy-fuzz",
            dependencies: [
                .product(name: "UnderstudyCore", package: "understudy"),
                .product(name: "UnderstudyAuth", package: "understudy"),
            ]
        )
    ]
)
