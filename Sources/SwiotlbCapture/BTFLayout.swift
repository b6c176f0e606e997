/// Structure member offsets read from a kernel's BTF type information
/// (`/sys/kernel/btf/vmlinux`): the header, the type section and the string section, walked once
/// with every length checked against the blob. Only what a capture needs is kept: for each
/// struct asked for, its size and its members' byte offsets.
public struct BTFLayout: Sendable {
    /// A blob that is not BTF, or a struct or member it does not have.
    public struct Failure: Error, Sendable, Equatable, CustomStringConvertible {
        /// What was wrong.
        public var message: String
        /// The message.
        public var description: String { message }
    }

    /// One struct as BTF describes it.
    public struct Structure: Sendable, Equatable {
        /// `sizeof` in bytes.
        public var size: UInt32
        /// Member name → byte offset (bitfields are left out).
        public var members: [String: UInt32]
    }

    /// The structs found, by name (the first of each name in type order).
    public private(set) var structures: [String: Structure] = [:]

    /// The most bytes a BTF blob may hold (6.1's vmlinux BTF is about 4.4 MiB).
    public static let maxBytes = 64 << 20

    /// Reads `bytes`, keeping the structs named in `wanted`.
    public init(bytes: [UInt8], structs wanted: Set<String>) throws(Failure) {
        guard bytes.count <= Self.maxBytes else { throw Failure(message: "larger than \(Self.maxBytes >> 20) MiB: not BTF") }
        var r = Reader(bytes: bytes)
        guard bytes.count >= 24, r.u16(0) == 0xeb9f else { throw Failure(message: "no BTF magic 0xeb9f (little-endian) at the start") }
        guard bytes[2] == 1 else { throw Failure(message: "BTF version \(bytes[2]); version 1 expected") }
        let headerLength = Int(r.u32(4))
        guard headerLength >= 24, headerLength <= bytes.count else { throw Failure(message: "BTF header length \(headerLength) out of range") }
        let typeOffset = Int(r.u32(8)), typeLength = Int(r.u32(12)), stringOffset = Int(r.u32(16)), stringLength = Int(r.u32(20))
        let types = headerLength + typeOffset, strings = headerLength + stringOffset
        guard types <= bytes.count, typeLength <= bytes.count - types, strings <= bytes.count, stringLength <= bytes.count - strings else {
            throw Failure(message: "BTF type or string section beyond the blob's \(bytes.count) bytes")
        }
        r.strings = strings..<(strings + stringLength)
        var at = types
        let end = types + typeLength
        while at < end {
            guard end - at >= 12 else { throw Failure(message: "BTF type record cut short at byte \(at)") }
            let nameOffset = r.u32(at), info = r.u32(at + 4), sizeOrType = r.u32(at + 8)
            let kind = (info >> 24) & 0x1f, vlen = Int(info & 0xffff), kindFlag = info >> 31 != 0
            at += 12
            let extra: Int
            switch kind {
            case 1, 14, 17: extra = 4  // INT, VAR, DECL_TAG
            case 3: extra = 12  // ARRAY
            case 4, 5, 15, 19: extra = 12 * vlen  // STRUCT, UNION, DATASEC, ENUM64
            case 6, 13: extra = 8 * vlen  // ENUM, FUNC_PROTO
            case 2, 7, 8, 9, 10, 11, 12, 16, 18: extra = 0
            default: throw Failure(message: "unknown BTF kind \(kind) at byte \(at - 12)")
            }
            guard end - at >= extra else { throw Failure(message: "BTF type record cut short at byte \(at - 12)") }
            if kind == 4, let name = try r.string(nameOffset), wanted.contains(name), structures[name] == nil {
                var members: [String: UInt32] = [:]
                for m in 0..<vlen {
                    let base = at + 12 * m
                    guard let memberName = try r.string(r.u32(base)), !memberName.isEmpty else { continue }
                    let raw = r.u32(base + 8)
                    let isBitfield = kindFlag && raw >> 24 != 0
                    let bits = kindFlag ? raw & 0xff_ffff : raw
                    guard !isBitfield, bits & 7 == 0 else { continue }
                    members[memberName] = bits >> 3
                }
                structures[name] = Structure(size: sizeOrType, members: members)
            }
            at += extra
        }
    }

    /// The byte offset of `member` in `structure`, or a failure naming both.
    public func offset(_ structure: String, _ member: String) throws(Failure) -> UInt32 {
        guard let s = structures[structure] else { throw Failure(message: "no struct \(structure) in the kernel's BTF") }
        guard let o = s.members[member] else { throw Failure(message: "struct \(structure) has no member \(member) in the kernel's BTF") }
        return o
    }

    /// Little-endian reads at checked offsets (the callers checked the ranges).
    private struct Reader {
        let bytes: [UInt8]
        var strings = 0..<0

        func u16(_ at: Int) -> UInt16 { UInt16(bytes[at]) | UInt16(bytes[at + 1]) << 8 }
        func u32(_ at: Int) -> UInt32 {
            UInt32(bytes[at]) | UInt32(bytes[at + 1]) << 8 | UInt32(bytes[at + 2]) << 16 | UInt32(bytes[at + 3]) << 24
        }

        /// The NUL-terminated string at `offset` in the string section; nil for one longer than
        /// 256 bytes (no struct or member a capture asks for is).
        func string(_ offset: UInt32) throws(Failure) -> String? {
            guard Int(offset) < strings.count else { throw Failure(message: "BTF name offset \(offset) beyond the string section") }
            let start = strings.lowerBound + Int(offset)
            var e = start
            while e < strings.upperBound, bytes[e] != 0, e - start <= 256 { e += 1 }
            guard e < strings.upperBound else { throw Failure(message: "BTF name at offset \(offset) is not NUL-terminated") }
            return bytes[e] == 0 ? String(decoding: bytes[start..<e], as: UTF8.self) : nil
        }
    }
}
