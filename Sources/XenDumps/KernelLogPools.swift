/// A bounce pool's place in pseudo-physical memory, as the kernel reports it.
public struct SwiotlbPoolLocation: Sendable, Hashable {
    /// First byte (`software IO TLB: mapped [mem <start>-…]`).
    public var start: UInt64
    /// Slots (`io_tlb_nslabs`).
    public var nslabs: UInt64
    /// The pool's size in 4 KiB pages.
    public var pages: UInt64 { nslabs >> 1 }
    /// Creates a location.
    public init(start: UInt64, nslabs: UInt64) { self.start = start; self.nslabs = nslabs }

    /// Reads the kernel's `software IO TLB: [<name> ]mapped [mem 0x…-0x…] (NMB)` lines.
    public static func parse(kernelLog lines: [Substring]) -> [SwiotlbPoolLocation] {
        lines.compactMap { line in
            guard let r = line.firstRange(of: "software IO TLB: "), let m = line[r.upperBound...].firstRange(of: "mapped [mem 0x") else { return nil }
            let rest = line[m.upperBound...]
            guard let dash = rest.firstIndex(of: "-"), let start = UInt64(rest[..<dash], radix: 16) else { return nil }
            let after = rest[rest.index(after: dash)...]
            guard after.hasPrefix("0x"), let close = after.firstIndex(of: "]"), let end = UInt64(after.dropFirst(2)[..<close], radix: 16), end > start else { return nil }
            return SwiotlbPoolLocation(start: start, nslabs: (end - start) >> 11)
        }
    }
}
