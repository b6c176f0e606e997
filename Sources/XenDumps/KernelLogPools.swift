import XenMemory

/// A bounce pool's place in pseudo-physical memory, as the kernel reports it.
public struct SwiotlbPoolLocation: Sendable, Hashable {
    /// First byte (`software IO TLB: mapped [mem <start>-…]`).
    public var start: PhysicalAddress
    /// Slots (`io_tlb_nslabs`).
    public var nslabs: UInt64
    /// The 1-based line of the kernel log it was read from (0 when it was not read from one).
    public var line: Int
    /// The pool's size in 4 KiB pages.
    public var pages: UInt64 { nslabs >> 1 }
    /// The pool's first page frame.
    public var firstPfn: PFN { start.pfn }
    /// Creates a location.
    public init(start: PhysicalAddress, nslabs: UInt64, line: Int = 0) { self.start = start; self.nslabs = nslabs; self.line = line }

    /// The start of the line that places a pool, as refusals quote it.
    static let mappedLine = SwiotlbKernelText.messagePrefix + SwiotlbKernelText.mappedMemory

    /// Reads the kernel's `software IO TLB: [<name> ]mapped [mem 0x<start>-0x<end>] (NMB)` lines
    /// (the kernel prints `end` as `start` plus the pool's bytes). A `mapped [mem` line whose
    /// range is malformed, empty, reversed, not page aligned or beyond 2^52 is an error naming
    /// its line.
    public static func parse(kernelLog lines: [Substring]) throws(DumpError) -> [SwiotlbPoolLocation] {
        var out: [SwiotlbPoolLocation] = []
        for (index, line) in lines.enumerated() {
            guard let r = line.firstRange(of: SwiotlbKernelText.messagePrefix), let m = line[r.upperBound...].firstRange(of: SwiotlbKernelText.mappedMemory)
            else { continue }
            let number = index + 1
            let rest = line[m.upperBound...]
            let shown = ErrorToken.clipped(rest)
            guard let dash = rest.firstIndex(of: "-"), let close = rest.firstIndex(of: "]"), dash < close,
                let start = Hex.value(rest[..<dash]), let end = Hex.value(rest[rest.index(after: dash)..<close])
            else {
                throw DumpError(line: number, message: "\(Self.mappedLine)…]: expected '0x<start>-0x<end>]' (up to 16 hex digits each), got '\(shown)'")
            }
            func refuse(_ why: String) -> DumpError {
                DumpError(line: number, message: "\(Self.mappedLine)\(Hex.plain(start))-\(Hex.plain(end))]: \(why)")
            }
            guard end > start else { throw refuse("the end is not above the start") }
            guard end <= PhysicalLimits.bytes else { throw refuse("beyond the 52-bit physical address space") }
            guard start & 0xfff == 0 else { throw refuse("the start is not page aligned (4 KiB)") }
            guard end - start >= 4096 else { throw refuse("smaller than one page (two 2 KiB slots)") }
            out.append(SwiotlbPoolLocation(start: PhysicalAddress(start), nslabs: (end - start) >> 11, line: number))
        }
        return out
    }

    /// Refuses a pool whose pages do not all lie within a P2M of `size` entries (a log of
    /// another domain or host): the error names the log line.
    public func check(p2mSize size: UInt64) throws(DumpError) {
        let first = firstPfn.rawValue
        guard first < size, pages <= size - first else {
            throw DumpError(
                line: line,
                message:
                    "\(Self.mappedLine)\(start)-…]: pfns \(firstPfn)-\(Hex.plain(first + max(pages, 1) - 1)) reach beyond the P2M (\(size) entries): a log of another domain?"
            )
        }
    }
}
