import Registry

/// The entry-body reader against the generated decoder: whatever the bytes, the fast reader
/// never accepts a body the reference refuses, and reads what it accepts the same way.
@_cdecl("LLVMFuzzerTestOneInput")
public func fuzzEntryBody(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let signed = SignedEntry(body: Array(UnsafeBufferPointer(start: data, count: size)), signature: [])
    guard let fast = try? EntryCodec.decode(signed) else { return 0 }
    guard let reference = try? EntryCodec.decodeWithGeneratedCode(signed) else {
        preconditionFailure("the fast reader accepted a body the generated decoder refuses")
    }
    precondition(
        fast.id == reference.id && fast.origin == reference.origin && fast.seq == reference.seq
            && fast.previous == reference.previous && fast.clock == reference.clock && fast.operation == reference.operation,
        "the readers disagree: \(fast.operation) / \(reference.operation)")
    return 0
}
