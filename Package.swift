// swift-tools-version: 6.1
import PackageDescription

/// MineralSync: a node that keeps allied partners' critical-mineral registry in sync.
///
/// Module layering (arrows point down; nothing below imports anything above):
///
///     mineral-syncd, mineralctl,    executables
///     mineral-bench
///     MineralSyncDaemon             the daemon: config → store, sync node, hooks, admin socket, metrics; SIGHUP/SIGTERM
///     HTTPServing                   a small HTTP/1.1 server (the admin socket, metrics, mineralctl's dashboard)
///     AdminAPI                      the admin API: its table of endpoints, JSON shapes and client (shared with mineralctl)
///     NodeConfig                    YAML config and the checks of the files it names
///     SyncNode                      the shell: sync engine, sessions over TLS, listener, dialers
///     SyncProtocol                  pure: wire messages, frame codec, session state machine
///     RegistryStore                 SQLite persistence (GRDB)
///     Registry                      pure domain: ids, HLC, vectors, entries, feeds, policy, views
///     MineralWire                   Protocol Buffers schema (generated, committed)
///     OpenSSLTLS                    TLS 1.3 through a BIO over NIO buffers, the NIO channel handler, peer identity
///     OpenSSLCrypto                 keys, certificates, trust store, CRLs, signatures, digests
///     COpenSSL                      the system libssl/libcrypto plus a shim for macros
let package = Package(
    name: "MineralSync",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "OpenSSLCrypto", targets: ["OpenSSLCrypto"]),
        .library(name: "Registry", targets: ["Registry"]),
        .library(name: "RegistryStore", targets: ["RegistryStore"]),
        // For the fuzz targets in Fuzz/ (a package of their own, built with -sanitize=fuzzer).
        .library(name: "SyncProtocol", targets: ["SyncProtocol"]),
        .library(name: "MineralSyncDaemon", targets: ["MineralSyncDaemon"]),
        .executable(name: "mineral-syncd", targets: ["mineral-syncd"]),
        .executable(name: "mineralctl", targets: ["mineralctl"]),
        .executable(name: "mineral-bench", targets: ["mineral-bench"]),
        /// Test-only: counts fsync/fdatasync calls of a daemon started with LD_PRELOAD (durability test).
        .library(name: "FsyncProbe", type: .dynamic, targets: ["FsyncProbe"])
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.101.2"),
        .package(url: "https://github.com/apple/swift-log.git", from: "1.16.2"),
        .package(url: "https://github.com/apple/swift-protobuf.git", from: "1.39.0"),
        .package(url: "https://github.com/groue/GRDB.swift.git", from: "7.10.0"),
        .package(url: "https://github.com/apple/swift-argument-parser.git", from: "1.8.2"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.2.2"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.13.0"),
        .package(url: "https://github.com/apple/swift-metrics.git", from: "2.13.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.4.1")
    ],
    targets: [
        .systemLibrary(
            name: "COpenSSL",
            pkgConfig: "openssl",
            providers: [.apt(["libssl-dev"])]
        ),
        .target(
            name: "OpenSSLCrypto",
            dependencies: ["COpenSSL"]
        ),
        .target(
            name: "OpenSSLTLS",
            dependencies: [
                "COpenSSL",
                "OpenSSLCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
            ]
        ),
        .target(
            name: "MineralWire",
            dependencies: [.product(name: "SwiftProtobuf", package: "swift-protobuf")],
            exclude: ["README.md"]
        ),
        .target(
            name: "Registry",
            dependencies: [
                "OpenSSLCrypto",
                "MineralWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ]
        ),
        .target(
            name: "SyncProtocol",
            dependencies: [
                "Registry",
                "MineralWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf"),
                .product(name: "NIOCore", package: "swift-nio")
            ]
        ),
        .target(
            name: "RegistryStore",
            dependencies: [
                "Registry",
                "OpenSSLCrypto",
                "MineralWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "GRDBSQLite", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ]
        ),
        .target(
            name: "SyncNode",
            dependencies: [
                "Registry", "RegistryStore", "SyncProtocol", "OpenSSLTLS", "OpenSSLCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics")
            ]
        ),
        .target(
            name: "NodeConfig",
            dependencies: ["Registry", "OpenSSLCrypto", .product(name: "Yams", package: "Yams")]
        ),
        .target(
            name: "AdminAPI",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio")
            ]
        ),
        .target(
            name: "HTTPServing",
            dependencies: [
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio")
            ]
        ),
        .target(
            name: "MineralSyncDaemon",
            dependencies: [
                "AdminAPI", "HTTPServing", "NodeConfig", "SyncNode", "Registry", "RegistryStore", "OpenSSLTLS", "OpenSSLCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "UnixSignals", package: "swift-service-lifecycle"),
                .product(name: "Prometheus", package: "swift-prometheus")
            ]
        ),
        .executableTarget(
            name: "mineral-syncd",
            dependencies: [
                "MineralSyncDaemon", "NodeConfig", "Registry", "SyncNode",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Metrics", package: "swift-metrics"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle")
            ]
        ),
        .executableTarget(
            name: "mineralctl",
            dependencies: [
                "AdminAPI", "HTTPServing",
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
            ]
        ),
        .executableTarget(
            name: "mineral-bench",
            dependencies: [
                "AdminAPI",
                "TestSupport",
                "NodeTestSupport",
                "Registry",
                "RegistryStore",
                "SyncNode",
                "SyncProtocol",
                .product(name: "Logging", package: "swift-log"),
                "OpenSSLCrypto",
                "OpenSSLTLS",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio"),
                .product(name: "ArgumentParser", package: "swift-argument-parser"),
                .product(name: "GRDB", package: "GRDB.swift")
            ]
        ),
        /// Writes entries in a loop and reports each commit; the store's crash test kills it mid-write.
        .executableTarget(
            name: "StoreCrashWriter",
            dependencies: ["Registry", "RegistryStore", "OpenSSLCrypto"],
            path: "Tests/StoreCrashWriter"
        ),
        .target(name: "FsyncProbe", path: "Tests/FsyncProbe"),
        .target(
            name: "TestSupport",
            dependencies: [
                "Registry", "OpenSSLCrypto", "MineralWire",
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ],
            path: "Tests/TestSupport"
        ),
        /// A node in the test's (or the benchmark's) own process: store, engine, TLS listener.
        .target(
            name: "NodeTestSupport",
            dependencies: [
                "TestSupport", "Registry", "RegistryStore", "SyncNode", "OpenSSLTLS", "OpenSSLCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log")
            ],
            path: "Tests/NodeTestSupport"
        ),
        /// A hostile partner node for tests: a real TLS client with a valid certificate, speaking
        /// the sync protocol as a test scripts it.
        .target(
            name: "PeerTestSupport",
            dependencies: [
                "TestSupport", "Registry", "SyncProtocol", "OpenSSLTLS", "OpenSSLCrypto",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOConcurrencyHelpers", package: "swift-nio")
            ],
            path: "Tests/PeerTestSupport"
        ),
        /// The repository itself: formatting, and the mutants' lists.
        .testTarget(name: "RepositoryTests"),
        .testTarget(
            name: "OpenSSLCryptoTests",
            dependencies: ["OpenSSLCrypto", "COpenSSL", "TestSupport"]
        ),
        .testTarget(
            name: "OpenSSLTLSTests",
            dependencies: [
                "OpenSSLTLS", "OpenSSLCrypto", "COpenSSL", "TestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOTLS", package: "swift-nio")
            ]
        ),
        .testTarget(
            name: "RegistryTests",
            dependencies: [
                "Registry",
                "TestSupport",
                "MineralWire",
                .product(name: "PropertyBased", package: "swift-property-based"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ]
        ),
        .testTarget(
            name: "SyncProtocolTests",
            dependencies: [
                "SyncProtocol", "Registry", "TestSupport", "MineralWire",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOTestUtils", package: "swift-nio"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ]
        ),
        .testTarget(
            name: "SyncNodeTests",
            dependencies: [
                "SyncNode", "SyncProtocol", "Registry", "RegistryStore", "OpenSSLTLS", "OpenSSLCrypto", "TestSupport", "PeerTestSupport", "NodeTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOEmbedded", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio")
            ]
        ),
        .testTarget(
            name: "DaemonTests",
            dependencies: [
                "AdminAPI", "Registry", "RegistryStore", "OpenSSLCrypto", "TestSupport", "PeerTestSupport", "SyncProtocol",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio")
            ]
        ),
        .testTarget(
            name: "MineralSyncDaemonTests",
            dependencies: [
                "MineralSyncDaemon", "AdminAPI", "HTTPServing", "Registry", "RegistryStore", "SyncNode", "OpenSSLTLS", "OpenSSLCrypto", "TestSupport",
                "NodeTestSupport",
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Logging", package: "swift-log")
            ]
        ),
        .testTarget(
            name: "NodeConfigTests",
            dependencies: ["NodeConfig", "Registry", "OpenSSLCrypto", "TestSupport", .product(name: "Yams", package: "Yams")]
        ),
        .testTarget(
            name: "RegistryStoreTests",
            dependencies: [
                "RegistryStore", "Registry", "TestSupport", "MineralWire",
                .product(name: "GRDB", package: "GRDB.swift"),
                .product(name: "SwiftProtobuf", package: "swift-protobuf")
            ]
        )
    ]
)
