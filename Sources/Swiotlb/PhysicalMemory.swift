/// The bytes of a sparse physical address space, page by page; untouched bytes read as zero
/// (memblock and page-allocator memory for the pools is zeroed).
public struct PhysicalMemory: Sendable {
    static let pageSize = 4096
    private var pages: [UInt64: [UInt8]] = [:]

    /// An all-zero space.
    public init() {}

    /// Writes `bytes` at `address`.
    public mutating func write(_ bytes: [UInt8], at address: UInt64) {
        var done = 0
        while done < bytes.count {
            let a = address &+ UInt64(done)
            let page = a >> 12, off = Int(a & 0xfff)
            let n = min(Self.pageSize - off, bytes.count - done)
            pages[page, default: [UInt8](repeating: 0, count: Self.pageSize)]
                .replaceSubrange(off..<(off + n), with: bytes[done..<(done + n)])
            done += n
        }
    }

    /// Reads `count` bytes at `address`.
    public func read(_ address: UInt64, count: Int) -> [UInt8] {
        var out = [UInt8](repeating: 0, count: count)
        var done = 0
        while done < count {
            let a = address &+ UInt64(done)
            let page = a >> 12, off = Int(a & 0xfff)
            let n = min(Self.pageSize - off, count - done)
            if let p = pages[page] { out.replaceSubrange(done..<(done + n), with: p[off..<(off + n)]) }
            done += n
        }
        return out
    }

    /// `memcpy(to, from, count)` within the space (the regions do not overlap in swiotlb use).
    public mutating func copy(from source: UInt64, to destination: UInt64, count: Int) {
        guard count > 0 else { return }
        write(read(source, count: count), at: destination)
    }
}
