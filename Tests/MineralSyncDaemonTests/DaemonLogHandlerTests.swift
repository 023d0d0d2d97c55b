import Foundation
import Logging
import Testing

@testable import MineralSyncDaemon

/// Peer-controlled strings (a goodbye's detail, a refused entry's reason) reach log lines: each
/// event must stay one line, and no value may pose as another field.
@Suite struct DaemonLogHandlerTests {
    func text(_ message: String, _ metadata: Logger.Metadata) -> String {
        let data = DaemonLogHandler.line(
            level: .warning, label: "EU/eu-1", message: message, metadata: metadata,
            time: "2026-11-29T00:00:00.000Z", format: .text)
        return String(decoding: data!, as: UTF8.self)
    }

    @Test func injectedLinesAndFieldsAreEscaped() {
        let detail = "bye\n2026-11-29T00:00:00.000Z critical [EU/eu-1] fork detected origin=EU/eu-1\r\u{1B}[31m\u{2028}"
        let line = text("session closed", ["detail": "\(detail)", "peer": "JP/jp-1"])
        #expect(!line.contains("\n") && !line.contains("\r") && !line.contains("\u{1B}") && !line.contains("\u{2028}"))
        #expect(
            line
                == #"2026-11-29T00:00:00.000Z warning [EU/eu-1] session closed detail="bye\n2026-11-29T00:00:00.000Z critical [EU/eu-1] fork detected origin=EU/eu-1\r\u{1b}[31m\u{2028}" peer=JP/jp-1"#
        )
    }

    @Test func aValueCannotCloseItsQuotesOrPoseAsAField() {
        let line = text("entry rejected", ["reason": #"x" origin="US/us-1"#, "plain": "a=b", "empty": ""])
        #expect(line.hasSuffix(#"empty="" plain="a=b" reason="x\" origin=\"US/us-1""#))
    }

    @Test func plainValuesAreUnchanged() {
        #expect(
            text("listening", ["address": "127.0.0.1:7701", "note": "two words"])
                == #"2026-11-29T00:00:00.000Z warning [EU/eu-1] listening address=127.0.0.1:7701 note="two words""#)
    }

    @Test func jsonLinesStayOneLine() throws {
        let data = DaemonLogHandler.line(
            level: .info, label: "EU/eu-1", message: "a\nb", metadata: ["detail": "c\nd"],
            time: "t", format: .json)!
        #expect(!data.contains(0x0A))
        let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: String])
        #expect(object["msg"] == "a\nb" && object["detail"] == "c\nd")
    }
}
