/// Page geometry shared by x86 PV guests and Xen: 4 KiB pages.
public enum Page {
    /// log2 of the page size (`PAGE_SHIFT`, `XEN_PAGE_SHIFT`).
    public static let shift: UInt64 = 12
    /// The page size in bytes.
    public static let size: UInt64 = 1 << shift
    /// Mask of the offset bits inside a page.
    public static let offsetMask: UInt64 = size - 1
}

/// A frame number or byte address with one meaning: the wrapper code the five memory number
/// types (``PFN``, ``MFN``, ``PhysicalAddress``, ``MachineAddress``, ``DMAAddress``) share, so
/// that one kind cannot be passed where another is meant.
public protocol MemoryNumber: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible where RawValue == UInt64 {
    /// Wraps a number.
    init(rawValue: UInt64)
}

extension MemoryNumber {
    /// Wraps a number.
    @inlinable public init(_ value: UInt64) { self.init(rawValue: value) }
    /// Orders by number.
    @inlinable public static func < (a: Self, b: Self) -> Bool { a.rawValue < b.rawValue }
    /// The number `count` later (frames for a frame number, bytes for an address; traps on
    /// overflow: frame arithmetic on model data is bounded).
    @inlinable public func advanced(by count: UInt64) -> Self { Self(rawValue: rawValue + count) }
    /// `0x` + lowercase hex, unpadded.
    public var description: String { Hex.plain(rawValue) }
}

extension Range where Bound: MemoryNumber {
    /// The frames or addresses `[lower, upper)` of a raw range.
    @inlinable public init(raw: Range<UInt64>) { self = Bound(raw.lowerBound)..<Bound(raw.upperBound) }
    /// The raw numbers of this range (for counting, iterating and the generic extent maps).
    @inlinable public var raw: Range<UInt64> { lowerBound.rawValue..<upperBound.rawValue }
    /// How many frames (or bytes) the range spans.
    @inlinable public var span: UInt64 { upperBound.rawValue - lowerBound.rawValue }
}

/// A guest pseudo-physical frame number (Linux `pfn`): an index into the guest's P2M.
public struct PFN: MemoryNumber {
    /// The frame number.
    public var rawValue: UInt64
    /// Wraps a frame number.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The pseudo-physical address of the first byte of this frame.
    @inlinable public var address: PhysicalAddress { PhysicalAddress(rawValue << Page.shift) }
}

/// A machine frame number (Xen `mfn`; on x86 PV the bus frame number `bfn` is the same number).
public struct MFN: MemoryNumber {
    /// The frame number.
    public var rawValue: UInt64
    /// Wraps a frame number.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The machine address of the first byte of this frame.
    @inlinable public var address: MachineAddress { MachineAddress(rawValue << Page.shift) }
    /// Bit length of the frame number (`flsl(mfn)`): Xen's heap zone of this frame, minimum 1.
    public var zone: Int { max(1, 64 - rawValue.leadingZeroBitCount) }
}

/// A guest pseudo-physical address (Linux `phys_addr_t` in a PV guest).
public struct PhysicalAddress: MemoryNumber {
    /// The byte address.
    public var rawValue: UInt64
    /// Wraps an address.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The frame holding this address.
    @inlinable public var pfn: PFN { PFN(rawValue >> Page.shift) }
    /// The offset of this address inside its page.
    @inlinable public var pageOffset: UInt64 { rawValue & Page.offsetMask }
    /// `phys_to_dma` natively on x86 (no `dma_range_map`, no memory encryption bit): the same
    /// number as a bus address.
    @inlinable public var directDMA: DMAAddress { DMAAddress(rawValue) }
}

/// A machine (host physical) address; on x86 PV the bus address a device sees is the same
/// number (``bus``).
public struct MachineAddress: MemoryNumber {
    /// The byte address.
    public var rawValue: UInt64
    /// Wraps an address.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// The frame holding this address.
    @inlinable public var mfn: MFN { MFN(rawValue >> Page.shift) }
    /// The offset of this address inside its page.
    @inlinable public var pageOffset: UInt64 { rawValue & Page.offsetMask }
    /// The bus address of this byte in an x86 PV guest: the bus frame is the machine frame
    /// (`pfn_to_bfn` is `pfn_to_mfn` there), so `xen_phys_to_dma` ends in this number.
    @inlinable public var bus: DMAAddress { DMAAddress(rawValue) }
}

/// A byte address whose pages have a frame-number type of their own: a pseudo-physical address
/// lies in a ``PFN``, a machine address in an ``MFN``. What a memory map (``E820Map``) is
/// generic over, so that its frames come out in the kind its addresses are in.
public protocol PagedAddress: MemoryNumber {
    /// The frame-number type of this address space.
    associatedtype Frame: MemoryNumber
}

extension PhysicalAddress: PagedAddress {
    /// Pseudo-physical addresses lie in guest frames.
    public typealias Frame = PFN
}

extension MachineAddress: PagedAddress {
    /// Machine addresses lie in machine frames.
    public typealias Frame = MFN
}

/// A bus (DMA) address: the number a device is given to reach memory (Linux `dma_addr_t`), which
/// is compared with the device's mask and bus limit (`dma_capable`). Natively on x86 it is the
/// ``PhysicalAddress`` (``PhysicalAddress/directDMA``, `phys_to_dma`); in an x86 PV guest it is
/// the ``MachineAddress`` of the guest frame (``MachineAddress/bus``, `xen_phys_to_dma`), which
/// only the guest's P2M can give.
public struct DMAAddress: MemoryNumber {
    /// The byte address.
    public var rawValue: UInt64
    /// Wraps an address.
    @inlinable public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// `dma_to_phys` natively on x86 (no `dma_range_map`, no memory encryption bit): the same
    /// number as a physical address.
    @inlinable public var directPhysical: PhysicalAddress { PhysicalAddress(rawValue) }
    /// The machine address a bus address is in an x86 PV guest (`bfn` = `mfn`); `xen_dma_to_phys`
    /// takes it back to the guest through the M2P.
    @inlinable public var machine: MachineAddress { MachineAddress(rawValue) }
}

/// Integer helpers with the kernel's names and meanings.
public enum BitMath {
    /// `get_order(bytes)`: the smallest order such that `PAGE_SIZE << order >= bytes` (0 for 0..4096).
    public static func pageOrder(bytes: UInt64) -> Int {
        if bytes <= Page.size { return 0 }
        return ceilLog2((bytes + Page.size - 1) >> Page.shift)
    }
    /// ceil(log2(n)) for n >= 1.
    public static func ceilLog2(_ n: UInt64) -> Int {
        n <= 1 ? 0 : 64 - (n - 1).leadingZeroBitCount
    }
    /// floor(log2(n)) for n >= 1.
    public static func floorLog2(_ n: UInt64) -> Int { 63 - n.leadingZeroBitCount }
    /// `fls64(x)`: the 1-based index of the most significant set bit, 0 for 0.
    public static func fls64(_ x: UInt64) -> Int { 64 - x.leadingZeroBitCount }
    /// `DMA_BIT_MASK(n)`.
    public static func dmaBitMask(_ bits: Int) -> UInt64 { bits >= 64 ? ~0 : (1 << UInt64(bits)) - 1 }
}
