extension String {
    /// Runs `body` over the string's UTF-8 bytes in place (native strings; small ones are
    /// copied to the stack), falling back to an array for bridged ones. Validating an id this
    /// way costs a loop over bytes, not an iterator over `utf8` or an allocation.
    @inlinable
    public func withUTF8Bytes<Result>(_ body: (UnsafeBufferPointer<UInt8>) throws -> Result) rethrows -> Result {
        if let result = try utf8.withContiguousStorageIfAvailable(body) { return result }
        return try Array(utf8).withUnsafeBufferPointer(body)
    }
}
