import OpenSSLCrypto

/// An unambiguous byte encoding of view contents for `RegistryViews.digest`: every string is
/// length-prefixed, every integer fixed-width big-endian, every optional tagged.
struct CanonicalWriter: ~Copyable {
    private var hasher = SHA256Hasher()

    mutating func section(_ name: String) { string("§" + name) }

    mutating func string(_ text: String) {
        integer(UInt64(text.utf8.count))
        hasher.update(text)
    }

    mutating func integer(_ value: UInt64) { hasher.update(bigEndian: value) }

    mutating func optional(_ value: UInt64?) {
        if let value {
            integer(1)
            integer(value)
        } else {
            integer(0)
        }
    }

    mutating func digest(_ value: SHA256Digest) { hasher.update(value) }

    mutating func quantity(_ quantity: Quantity) {
        string(quantity.amount.text)
        string(quantity.unit.rawValue)
    }

    mutating func order(_ order: EventOrder) {
        integer(order.clock.wallMillis)
        integer(UInt64(order.clock.logical))
        string(order.origin.description)
        digest(order.id)
    }

    /// A report's form, basis and withheld reason are not written: the register's id chain
    /// covers every byte of every write already, and an older node (which folds a form or a
    /// basis it cannot read as the same report) then signs the same digest.
    mutating func reserve(_ record: ReserveRecord) {
        quantity(record.report.quantity)
        integer(record.report.asOfMillis)
        string(record.report.note)
        order(record.order)
    }

    mutating func alert(_ alert: DisruptionAlert) {
        digest(alert.id)
        string(alert.issuer.description)
        string(alert.mineral.rawValue)
        integer(UInt64(alert.severity.rawValue))
        integer(UInt64(alert.category.rawValue))
        string(alert.region)
        string(alert.summary)
        optional(alert.expiresAtMillis)
        integer(UInt64(alert.acknowledgements.count))
        for (participant, ack) in alert.acknowledgements.sorted(by: { $0.key < $1.key }) {
            string(participant.rawValue)
            string(ack.node.description)
            string(ack.note)
            integer(ack.at.wallMillis)
            integer(UInt64(ack.at.logical))
        }
        if let resolution = alert.resolution {
            integer(1)
            string(resolution.node.description)
            string(resolution.note)
            integer(resolution.at.wallMillis)
            integer(UInt64(resolution.at.logical))
        } else {
            integer(0)
        }
    }

    consuming func finish() -> SHA256Digest { hasher.finalize() }
}
