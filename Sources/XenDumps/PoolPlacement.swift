import XenMemory

/// Where a bounce pool sits in machine memory: its machine-contiguous pieces and range, its
/// segments (``SwiotlbPoolLocation/segments(in:)``: xen-swiotlb exchanges the pool one
/// `IO_TLB_SEGSIZE` segment at a time, and a bounce buffer never crosses one), and whether it all
/// lies below 4 GiB. Pieces and totals cost the P2M runs over the pool; the segments theirs.
public struct PoolPlacement: Sendable, Hashable {
    /// The first machine frame at 4 GiB (frame 2^20): the frames below it are those a 32-bit
    /// device reaches.
    public static let fourGiBFrame = MFN(0x10_0000)

    /// A machine-contiguous piece of the pool: `pages` pages from `pfn` at machine frames from `mfn`.
    public struct Piece: Sendable, Hashable {
        /// First pfn.
        public var pfn: PFN
        /// First machine frame.
        public var mfn: MFN
        /// Pages.
        public var pages: UInt64
        /// A piece from its parts.
        public init(pfn: PFN, mfn: MFN, pages: UInt64) { self.pfn = pfn; self.mfn = mfn; self.pages = pages }
    }

    /// The pool's first pfn.
    public let firstPfn: PFN
    /// The pool's pages within the P2M.
    public let pages: UInt64
    /// Its segments, in pfn order.
    public let segments: [SegmentPlacement]
    /// Its RAM as maximal machine-contiguous pieces, in pfn order.
    public private(set) var pieces: [Piece] = []
    /// Pages that are not RAM of the domain (missing, identity, foreign).
    public private(set) var notRAMPages: UInt64 = 0
    /// RAM pages at or above 4 GiB of machine memory.
    public private(set) var pagesAbove4G: UInt64 = 0

    /// Segments in all.
    public var segmentCount: Int { segments.count }
    /// Segments whose pages are RAM and machine-contiguous.
    public var contiguousSegments: Int { segments.reduce(0) { $0 + ($1.contiguous ? 1 : 0) } }
    /// Whether every page is RAM below 4 GiB of machine memory.
    public var allBelow4G: Bool { notRAMPages == 0 && pagesAbove4G == 0 }
    /// The lowest machine frame of the pool's RAM, nil when it has none.
    public var lowestFrame: MFN? { pieces.map(\.mfn).min() }
    /// One past the highest machine frame of the pool's RAM, nil when it has none.
    public var frameEnd: MFN? { pieces.map { $0.mfn.advanced(by: $0.pages) }.max() }

    /// The placement of `pool` in `p2m` (only the part of the pool within the P2M's entries).
    public init(_ pool: SwiotlbPoolLocation, in p2m: P2MDumpContents) {
        firstPfn = pool.firstPfn
        let first = firstPfn.rawValue
        pages = first < p2m.size ? min(pool.pages, p2m.size - first) : 0
        segments = pool.segments(in: p2m)
        var covered: UInt64 = 0
        for run in p2m.entries.extents(start: first, count: pages) {
            let n = run.count
            covered += n
            guard case .machine(let first) = run.value else { notRAMPages += n; continue }
            let mfn = first.rawValue
            pagesAbove4G += first < Self.fourGiBFrame ? n - min(n, Self.fourGiBFrame.rawValue - mfn) : n
            if let last = pieces.last, last.pfn.rawValue + last.pages == run.start, last.mfn.rawValue + last.pages == mfn {
                pieces[pieces.count - 1].pages += n
            } else {
                pieces.append(Piece(pfn: PFN(run.start), mfn: MFN(mfn), pages: n))
            }
        }
        notRAMPages += pages - covered
    }
}
