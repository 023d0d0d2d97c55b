/// The outcome of one OpenSSL call on a connection whose network side we pump ourselves.
public enum TLSResult<Value> {
    /// OpenSSL needs more bytes from the peer (WANT_READ) before it can go on.
    case incomplete
    case complete(Value)
    /// The peer closed the TLS session cleanly (close_notify).
    case closed
    case failed(TLSError)
}
