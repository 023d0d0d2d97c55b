/// Reads the field numbers of raw protobuf bytes without knowing the schema: how a node names an
/// operation kind newer than itself (in logs and in `mineralctl`) without understanding it.
enum ProtobufFieldScanner {
    static func fieldNumbers(_ bytes: [UInt8]) -> [Int] {
        var numbers: [Int] = []
        var index = 0
        func varint() -> UInt64? {
            var value: UInt64 = 0
            var shift: UInt64 = 0
            while index < bytes.count, shift < 64 {
                let byte = bytes[index]
                index += 1
                value |= UInt64(byte & 0x7f) << shift
                if byte & 0x80 == 0 { return value }
                shift += 7
            }
            return nil
        }
        while index < bytes.count {
            guard let tag = varint() else { break }
            let number = Int(tag >> 3)
            guard number > 0 else { break }
            if numbers.count < EntryOperation.maximumUnknownFieldNumbers, !numbers.contains(number) { numbers.append(number) }
            switch tag & 7 {
            case 0: guard varint() != nil else { return numbers }
            case 1: index += 8
            case 2:
                guard let length = varint(), length <= UInt64(bytes.count - index) else { return numbers }
                index += Int(length)
            case 5: index += 4
            default: return numbers
            }
        }
        return numbers
    }
}
