internal import COpenSSL

/// One entry of OpenSSL's per-thread error queue, as OpenSSL reported it.
public struct OpenSSLErrorRecord: Sendable, Hashable, CustomStringConvertible {
    public let code: UInt
    public let library: String
    public let reason: String
    public let function: String
    public let file: String
    public let line: Int
    public let data: String

    public var description: String {
        var text = "\(library): \(reason)"
        if !function.isEmpty { text += " in \(function)" }
        if !data.isEmpty { text += " (\(data))" }
        return text
    }
}

/// A failed OpenSSL call: which operation failed and the *whole* error queue at that moment,
/// oldest first, because the top entry alone rarely says why (a PEM error usually sits on top
/// of the ASN.1 error that caused it).
public struct OpenSSLError: Error, Sendable, Hashable, CustomStringConvertible {
    public let operation: String
    public let queue: [OpenSSLErrorRecord]

    public init(operation: String, queue: [OpenSSLErrorRecord]) {
        self.operation = operation
        self.queue = queue
    }

    /// Captures the calling thread's error queue, emptying it.
    /// Must run on the thread that made the failing call, right after it.
    public static func capture(_ operation: String) -> OpenSSLError {
        OpenSSLError(operation: operation, queue: OpenSSLErrorQueue.drain())
    }

    public var description: String {
        if queue.isEmpty { return "\(operation) failed (OpenSSL reported no reason)" }
        return "\(operation) failed: " + queue.map(\.description).joined(separator: "; ")
    }
}

/// The calling thread's OpenSSL error queue.
public enum OpenSSLErrorQueue {
    /// Empties the queue so that the next call's failure is not blamed on an older one.
    public static func clear() {
        ERR_clear_error()
    }

    /// Removes and returns every queued error, oldest first.
    public static func drain() -> [OpenSSLErrorRecord] {
        var records: [OpenSSLErrorRecord] = []
        while true {
            var file: UnsafePointer<CChar>? = nil
            var line: Int32 = 0
            var function: UnsafePointer<CChar>? = nil
            var data: UnsafePointer<CChar>? = nil
            var flags: Int32 = 0
            let code = ERR_get_error_all(&file, &line, &function, &data, &flags)
            if code == 0 { break }
            let library = ERR_lib_error_string(code).map { String(cString: $0) } ?? "lib(\(mshim_ERR_GET_LIB(code)))"
            let reason = ERR_reason_error_string(code).map { String(cString: $0) } ?? "reason(\(mshim_ERR_GET_REASON(code)))"
            let hasText = (flags & ERR_TXT_STRING) != 0
            records.append(
                OpenSSLErrorRecord(
                    code: UInt(code),
                    library: library,
                    reason: reason,
                    function: function.map { String(cString: $0) } ?? "",
                    file: file.map { String(cString: $0) } ?? "",
                    line: Int(line),
                    data: hasText ? (data.map { String(cString: $0) } ?? "") : ""
                ))
        }
        return records
    }
}

/// Runs `body` with a clean error queue and turns a failure (as judged by `failed`) into an
/// error carrying the whole queue, read on the same thread right after the call.
@inline(__always)
func openSSLCall<T>(_ operation: String, failed: (T) -> Bool, _ body: () -> T) throws(CryptoError) -> T {
    ERR_clear_error()
    let result = body()
    if failed(result) { throw .openSSL(OpenSSLError.capture(operation)) }
    return result
}

/// For the common OpenSSL convention: 1 means success.
@inline(__always)
func openSSLCheck(_ operation: String, _ body: () -> Int32) throws(CryptoError) {
    _ = try openSSLCall(operation, failed: { $0 != 1 }, body)
}

/// For calls that return an owned pointer, or NULL on failure.
@inline(__always)
func openSSLPointer(_ operation: String, _ body: () -> OpaquePointer?) throws(CryptoError) -> OpaquePointer {
    try openSSLCall(operation, failed: { $0 == nil }, body)!
}
