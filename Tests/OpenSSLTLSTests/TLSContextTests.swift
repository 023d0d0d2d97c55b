import OpenSSLCrypto
@_spi(Testing) import OpenSSLTLS
import TestSupport
import Testing

/// Building a context that OpenSSL refuses must throw and release what it allocated exactly
/// once: a reload (SIGHUP) with such a configuration is refused, and the node runs on.
@Suite struct TLSContextTests {
    @Test func aRefusedConfigurationThrowsAndFreesItsContextOnce() throws {
        let fixture = try TLSFixture()
        let node = try fixture.pki.node("EU", "eu-1")
        // OpenSSL refuses an empty ALPN protocol name after the SSL_CTX exists: the failure path
        // that used to free it (and release the callback state) twice, once more in deinit.
        for _ in 0..<200 {
            #expect(throws: TLSError.configuration("ALPN protocols rejected by OpenSSL")) {
                _ = try fixture.context(.client, node) { $0.offeredProtocolsOverride = [""] }
            }
        }
        // Contexts built afterwards are sound.
        let good = try fixture.context(.client, node)
        #expect(good.configuration.role == .client)
    }
}
