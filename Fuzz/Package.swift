// swift-tools-version: 6.1
import PackageDescription

/// libFuzzer targets for what partners and admin clients send. Not part of `swift test`: built
/// and run by `Scripts/fuzz.sh` (`swift build --sanitize=fuzzer --sanitize=address`), each
/// target for a set time, starting from the seed corpus in `Fuzz/Corpus/<target>`.
let package = Package(
    name: "MineralSyncFuzz",
    platforms: [.macOS(.v15)],
    dependencies: [
        .package(name: "MineralSync", path: ".."),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2")
    ],
    targets: [
        .executableTarget(
            name: "FuzzFrames",
            dependencies: [
                .product(name: "SyncProtocol", package: "MineralSync"),
                .product(name: "Registry", package: "MineralSync"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio")
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzSyncMessage",
            dependencies: [
                .product(name: "SyncProtocol", package: "MineralSync"),
                .product(name: "Registry", package: "MineralSync")
            ],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzEntryBody",
            dependencies: [.product(name: "Registry", package: "MineralSync")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        ),
        .executableTarget(
            name: "FuzzAdminRequest",
            dependencies: [.product(name: "MineralSyncDaemon", package: "MineralSync")],
            swiftSettings: [.unsafeFlags(["-parse-as-library"])]
        )
    ]
)
