@_spi(Fuzzing) import MineralSyncDaemon

/// What an admin-socket client sends: HTTP/1.1 parsing, the path and query, every body type.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzAdminRequest(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    AdminRequestFuzzing.exercise(Array(UnsafeBufferPointer(start: data, count: size)), maximumBodyBytes: 64 << 10)
    return 0
}
