/// Page geometry shared by x86 PV guests and Xen: 4 KiB pages.
public enum Page {
    /// log2 of the page size (`PAGE_SHIFT`, `XEN_PAGE_SHIFT`).
    public static let shift: UInt64 = 12
    /// The page size in bytes.
    public static let size: UInt64 = 1 << shift
    /// Mask of the offset bits inside a page.
    public static let offsetMask: UInt64 = size - 1
}

/// A guest pseudo-physical frame number (Linux `pfn`): an index into the guest's P2M.
public struct PFN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The frame number.
    public var rawValue: UInt64
    /// Wraps a frame number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a frame number.
    public init(_ value: UInt64) { self.rawValue = value }
    /// Orders frames by number.
    public static func < (a: PFN, b: PFN) -> Bool { a.rawValue < b.rawValue }
    /// The frame `count` frames later (traps on overflow: frame arithmetic on model data is bounded).
    public func advanced(by count: UInt64) -> PFN { PFN(rawValue + count) }
    /// The pseudo-physical address of the first byte of this frame.
    public var address: PhysicalAddress { PhysicalAddress(rawValue << Page.shift) }
    /// `0x` + lowercase hex, unpadded.
    public var description: String { Hex.plain(rawValue) }
}

/// A machine frame number (Xen `mfn`; on x86 PV the bus frame number `bfn` is the same number).
public struct MFN: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The frame number.
    public var rawValue: UInt64
    /// Wraps a frame number.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps a frame number.
    public init(_ value: UInt64) { self.rawValue = value }
    /// Orders frames by number.
    public static func < (a: MFN, b: MFN) -> Bool { a.rawValue < b.rawValue }
    /// The frame `count` frames later.
    public func advanced(by count: UInt64) -> MFN { MFN(rawValue + count) }
    /// The machine address of the first byte of this frame.
    public var address: MachineAddress { MachineAddress(rawValue << Page.shift) }
    /// Bit length of the frame number (`flsl(mfn)`): Xen's heap zone of this frame, minimum 1.
    public var zone: Int { max(1, 64 - rawValue.leadingZeroBitCount) }
    /// `0x` + lowercase hex, unpadded.
    public var description: String { Hex.plain(rawValue) }
}

/// A guest pseudo-physical address (Linux `phys_addr_t` in a PV guest).
public struct PhysicalAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The byte address.
    public var rawValue: UInt64
    /// Wraps an address.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps an address.
    public init(_ value: UInt64) { self.rawValue = value }
    /// Orders addresses.
    public static func < (a: PhysicalAddress, b: PhysicalAddress) -> Bool { a.rawValue < b.rawValue }
    /// The frame holding this address.
    public var pfn: PFN { PFN(rawValue >> Page.shift) }
    /// The offset of this address inside its page.
    public var pageOffset: UInt64 { rawValue & Page.offsetMask }
    /// `0x` + lowercase hex, unpadded.
    public var description: String { Hex.plain(rawValue) }
}

/// A machine (host physical) address; on x86 PV it is also the bus/DMA address a device sees.
public struct MachineAddress: RawRepresentable, Hashable, Comparable, Sendable, CustomStringConvertible {
    /// The byte address.
    public var rawValue: UInt64
    /// Wraps an address.
    public init(rawValue: UInt64) { self.rawValue = rawValue }
    /// Wraps an address.
    public init(_ value: UInt64) { self.rawValue = value }
    /// Orders addresses.
    public static func < (a: MachineAddress, b: MachineAddress) -> Bool { a.rawValue < b.rawValue }
    /// The frame holding this address.
    public var mfn: MFN { MFN(rawValue >> Page.shift) }
    /// The offset of this address inside its page.
    public var pageOffset: UInt64 { rawValue & Page.offsetMask }
    /// `0x` + lowercase hex, unpadded.
    public var description: String { Hex.plain(rawValue) }
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
