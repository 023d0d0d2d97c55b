internal import COpenSSL

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// Reading PEM material from disk, with the checks an operator expects of a daemon that holds
/// a signing key: a private key that group or others can read is refused, as ssh refuses one.
enum PEMSource {
    static func readFile(_ path: String) throws(CryptoError) -> [UInt8] {
        guard let file = fopen(path, "rb") else {
            throw .fileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        defer { fclose(file) }
        var bytes: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 16384)
        while true {
            let count = chunk.withUnsafeMutableBytes { fread($0.baseAddress, 1, 16384, file) }
            if count > 0 { bytes.append(contentsOf: chunk[0..<count]) }
            if count < 16384 {
                if ferror(file) != 0 { throw .fileUnreadable(path: path, reason: String(cString: strerror(errno))) }
                break
            }
        }
        return bytes
    }

    /// Refuses a key file whose permission bits let group or others read or write it.
    static func checkPrivateKeyPermissions(_ path: String) throws(CryptoError) {
        var info = stat()
        guard stat(path, &info) == 0 else {
            throw .fileUnreadable(path: path, reason: String(cString: strerror(errno)))
        }
        let mode = UInt16(info.st_mode & 0o777)
        if mode & 0o077 != 0 {
            throw .privateKeyTooOpen(path: path, mode: mode)
        }
    }
}

/// A read-only memory BIO over bytes, alive for the duration of `body`.
func withMemoryBIO<T>(_ bytes: [UInt8], _ body: (OpaquePointer) throws(CryptoError) -> T) throws(CryptoError) -> T {
    let result = bytes.withUnsafeBytes { buffer -> Result<T, CryptoError> in
        guard let bio = BIO_new_mem_buf(buffer.baseAddress, Int32(buffer.count)) else {
            return .failure(.openSSL(.capture("BIO_new_mem_buf")))
        }
        defer { BIO_free(bio) }
        return Result { () throws(CryptoError) -> T in try body(bio) }
    }
    return try result.get()
}

/// Runs `body` with a writable memory BIO and returns everything written to it.
func collectingMemoryBIO(_ body: (OpaquePointer) -> Int32) throws(CryptoError) -> [UInt8] {
    guard let bio = BIO_new(BIO_s_mem()) else { throw .openSSL(.capture("BIO_new")) }
    defer { BIO_free(bio) }
    ERR_clear_error()
    guard body(bio) == 1 else { throw .openSSL(.capture("PEM/DER write")) }
    var data: UnsafeMutablePointer<CChar>? = nil
    let length = mshim_BIO_get_mem_data(bio, &data)
    guard let data, length > 0 else { return [] }
    return Array(UnsafeRawBufferPointer(start: data, count: Int(length)))
}

/// The DER encoding an OpenSSL `i2d_*` function writes for `pointer` (empty if it fails).
func derEncoding(of pointer: OpaquePointer, _ encode: (OpaquePointer?, UnsafeMutablePointer<UnsafeMutablePointer<UInt8>?>?) -> Int32) -> [UInt8] {
    var out: UnsafeMutablePointer<UInt8>? = nil
    let length = encode(pointer, &out)
    guard length > 0, let out else { return [] }
    defer { mshim_OPENSSL_free(out) }
    return Array(UnsafeBufferPointer(start: out, count: Int(length)))
}

/// The object an OpenSSL `d2i_*` function reads from `der`; nil (the error queue drained) when
/// the bytes are not one.
func decodingDER(_ der: [UInt8], _ decode: (UnsafeMutablePointer<OpaquePointer?>?, UnsafeMutablePointer<UnsafePointer<UInt8>?>?, Int) -> OpaquePointer?)
    -> OpaquePointer?
{
    let pointer = der.withUnsafeBufferPointer { buffer -> OpaquePointer? in
        var cursor: UnsafePointer<UInt8>? = buffer.baseAddress
        return decode(nil, &cursor, buffer.count)
    }
    if pointer == nil { _ = OpenSSLErrorQueue.drain() }
    return pointer
}
