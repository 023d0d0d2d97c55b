/// The newest entry of a feed a node holds contiguously from seq 1.
public struct FeedHead: Sendable, Hashable {
    public let seq: UInt64
    public let id: EntryID
    /// What the next entry's `previous` must be.
    public let link: EntryID

    public init(seq: UInt64, id: EntryID, link: EntryID) {
        self.seq = seq
        self.id = id
        self.link = link
    }
}
