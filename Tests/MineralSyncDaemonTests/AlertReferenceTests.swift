import OpenSSLCrypto
import Registry
import Testing

@testable import MineralSyncDaemon

/// Alerts are named by id or unique prefix; ids that share a prefix cannot be made by hashing in
/// a test, so these are written by hand.
@Suite struct AlertReferenceTests {
    static func id(_ hex: String) -> EntryID { EntryID(hex: hex.padding(toLength: 64, withPad: "0", startingAt: 0))! }
    let ids = [id("abcdef0123"), id("abcdef0199"), id("12345678ff")]

    @Test func aFullIDOrAUniquePrefixOfEightOrMoreFindsTheAlert() throws {
        #expect(try AlertReference.resolve(ids[2].hex, among: ids) == ids[2])
        #expect(try AlertReference.resolve("12345678", among: ids) == ids[2])
        #expect(try AlertReference.resolve("ABCDEF0123", among: ids) == ids[0], "hex digits in either case")
        #expect(try AlertReference.resolve("abcdef01990", among: ids) == ids[1])
    }

    @Test func aSharedPrefixIsRefusedWithTheNumberOfMatches() {
        #expect(throws: AlertReference.Failure.ambiguous("abcdef01", matches: 2)) { try AlertReference.resolve("abcdef01", among: ids) }
        #expect(AlertReference.Failure.ambiguous("abcdef01", matches: 2).description == "alert id prefix abcdef01 matches 2 alerts; give more digits")
    }

    @Test(arguments: ["abcdef0", "", "abcdefgh", "abcdef01-", String(repeating: "a", count: 65)])
    func shortOrNonHexReferencesAreMalformed(_ text: String) {
        #expect(throws: AlertReference.Failure.malformed(text)) { try AlertReference.resolve(text, among: ids) }
    }

    @Test func anUnknownIDOrPrefixIsNotFound() {
        #expect(throws: AlertReference.Failure.notFound("ffffffff")) { try AlertReference.resolve("ffffffff", among: ids) }
        #expect(AlertReference.Failure.notFound(String(repeating: "f", count: 64)).description == "no alert \(String(repeating: "f", count: 64))")
    }
}
