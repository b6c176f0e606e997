/// One piece of memory a host description hands Xen's heap at boot.
public enum HeapPiece: Sendable, Hashable, CustomStringConvertible {
    /// The `index`-th boot region (0-based, in the order given): frames `frames`.
    case bootRegion(index: Int, frames: Range<MFN>)
    /// The `index`-th inventory block (0-based): `2^order` frames from `mfn`.
    case inventoryBlock(index: Int, mfn: MFN, order: Int)

    /// The frames the piece covers (an order outside 0…63 covers none).
    public var frames: Range<MFN> {
        switch self {
        case .bootRegion(_, let r): return r
        case .inventoryBlock(_, let m, let o):
            guard (0..<64).contains(o) else { return m..<m }
            let (end, overflow) = m.rawValue.addingReportingOverflow(1 << UInt64(o))
            return m..<MFN(overflow ? .max : end)
        }
    }

    /// `boot region 2 (frames 0x100–0x79200)` or `inventory block 0 (mfn 0x7fc00, order 8)`.
    public var description: String {
        switch self {
        case .bootRegion(let i, let r): return "boot region \(i) (frames \(r.lowerBound)–\(r.upperBound))"
        case .inventoryBlock(let i, let m, let o): return "inventory block \(i) (mfn \(m), order \(o))"
        }
    }
}

/// Why a host's memory could not be set up as described: the description names memory that
/// Xen could not hold or hands the heap the same frame twice.
public enum XenHostError: Error, Equatable, Sendable, CustomStringConvertible {
    /// E820 entry `index` (in address order) is empty or ends past 2^64.
    case badEntry(index: Int, address: MachineAddress, size: UInt64)
    /// E820 RAM entry `index` reaches frame `endFrame`, past the frames the heap's zones cover.
    case ramBeyondHeap(index: Int, endFrame: MFN)
    /// A boot region or inventory block lies (partly) outside the E820 RAM.
    case outsideRAM(HeapPiece)
    /// An inventory block's order is not a buddy order (0 … `XenHeap.maxOrder`).
    case badOrder(HeapPiece)
    /// An inventory block does not start on a multiple of its size.
    case misaligned(HeapPiece)
    /// Two pieces share frames (the heap would get them twice).
    case overlap(HeapPiece, HeapPiece)
    /// No 2 MiB-aligned RAM below 4 GiB holds Xen's image.
    case noRoomForXen(pages: UInt64)
    /// Xen's boot allocator found no region for `pages` pages (Xen BUGs).
    case bootMemoryExhausted(pages: UInt64)

    /// One line naming what is wrong, with the frame numbers.
    public var description: String {
        switch self {
        case .badEntry(let i, let a, let s):
            return "E820 entry \(i) at \(a) of \(Hex.plain(s)) bytes " + (s == 0 ? "is empty" : "ends past 2^64")
        case .ramBeyondHeap(let i, let e):
            return "E820 RAM entry \(i) reaches frame \(e), past frame \(XenHeap.frameLimit) (2^52 bytes), the end of Xen's heap zones"
        case .outsideRAM(let p): return "\(p) is not inside the E820 RAM"
        case .badOrder(let p): return "\(p): the order must be 0…\(XenHeap.maxOrder)"
        case .misaligned(let p): return "\(p) does not start on a multiple of its \(p.frames.span) frames"
        case .overlap(let a, let b): return "\(b) overlaps \(a): the heap would get the same frames twice"
        case .noRoomForXen(let n): return "Not enough memory to relocate Xen (\(n) pages of 2 MiB-aligned RAM below 4 GiB)"
        case .bootMemoryExhausted(let n): return "Xen's boot allocator has no region for \(n) pages"
        }
    }
}
