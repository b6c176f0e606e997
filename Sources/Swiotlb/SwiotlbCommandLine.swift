/// The `swiotlb=` kernel parameter as a kernel's `setup_io_tlb_npages` reads it: each kernel
/// (``SwiotlbKernelModel/readCommandLine(_:)``) reads its fields in its order with the readers
/// below.
public struct SwiotlbCommandLine: Sendable, Hashable {
    /// Slots of the (low) pool; 0 = not given (the default 64 MiB applies).
    public var nslabs: UInt64 = 0
    /// Slots of the RFC's high pool; nil = no second pool.
    public var highNslabs: UInt64?
    /// The force mode.
    public var force = SwiotlbForce.normal
    /// Text the kernel silently ignored (it accepts anything).
    public var ignored = ""
    /// v6.1: the number of areas given after the size (`swiotlb=<n>,<nareas>`), as
    /// `swiotlb_adjust_nareas(unsigned int)` receives it: the low 32 bits.
    public var areas: UInt64?
    /// A number did not fit: beyond 64 bits, wrapping when rounded up to a multiple of 128, or
    /// (v6.1's areas) beyond 32 bits. The kernel's `simple_strtoul`, `ALIGN` and `unsigned int`
    /// keep the low bits, as these fields do (a size that rounds to 0 means the default).
    public var wrapped = false

    /// No `swiotlb=` at all.
    public init() {}

    /// Parses the value after `swiotlb=` with `kernel`'s rules. Numbers are base-auto (`0x` hex,
    /// leading-0 octal).
    public init(parsing text: String, kernel: SwiotlbKernel = .default) {
        self = kernel.model.readCommandLine(text)
    }

    /// `<nslabs>` rounded up to a multiple of 128, then an optional comma.
    mutating func readSize(_ rest: inout Substring) {
        if let (n, r, w) = Self.strtoul(rest) { nslabs = IOTLB.alignToSegment(n); rest = r; wrapped = wrapped || w || nslabs < n }
        Self.skipComma(&rest)
    }

    /// The RFC's `<hi>` rounded up to a multiple of 128, then an optional comma.
    mutating func readHighSize(_ rest: inout Substring) {
        if let (n, r, w) = Self.strtoul(rest) { let a = IOTLB.alignToSegment(n); highNslabs = a; rest = r; wrapped = wrapped || w || a < n }
        Self.skipComma(&rest)
    }

    /// 6.1's `<nareas>` (its low 32 bits), then an optional comma.
    mutating func readAreas(_ rest: inout Substring) {
        if let (n, r, w) = Self.strtoul(rest) { areas = n & 0xffff_ffff; rest = r; wrapped = wrapped || w || n >> 32 != 0 }
        Self.skipComma(&rest)
    }

    /// The rest: exactly `force` or `noforce` (which leaves every pool `noForceSlots` slots),
    /// anything else ignored.
    mutating func readForce(_ rest: Substring, noForceSlots: UInt64) {
        if rest == "force" {
            force = .force
        } else if rest == "noforce" {
            force = .noForce
            nslabs = noForceSlots
            if highNslabs != nil { highNslabs = noForceSlots }
        } else {
            ignored = String(rest)
        }
    }

    private static func skipComma(_ rest: inout Substring) {
        if rest.first == "," { rest = rest.dropFirst() }
    }

    /// `simple_strtoul(s, &end, 0)`, only when `s` starts with a digit; wraps on overflow like
    /// the kernel's unsigned long (and says whether it did).
    static func strtoul(_ s: Substring) -> (UInt64, Substring, Bool)? {
        guard let c = s.first, c.isASCII, c.isNumber else { return nil }
        var radix: UInt64 = 10
        var rest = s
        if rest.hasPrefix("0x") || rest.hasPrefix("0X"), rest.dropFirst(2).first.map({ $0.isASCII && $0.isHexDigit }) == true {
            radix = 16; rest = rest.dropFirst(2)
        } else if rest.hasPrefix("0") {
            radix = 8
        }
        var v: UInt64 = 0
        var wrapped = false
        while let ch = rest.first, ch.isASCII, let d = ch.hexDigitValue, UInt64(d) < radix {
            let (m, o1) = v.multipliedReportingOverflow(by: radix)
            let (a, o2) = m.addingReportingOverflow(UInt64(d))
            v = a
            wrapped = wrapped || o1 || o2
            rest = rest.dropFirst()
        }
        return (v, rest, wrapped)
    }

    /// Slots the (low) pool gets: the given size or `IO_TLB_DEFAULT_SIZE`.
    public var effectiveNslabs: UInt64 { nslabs == 0 ? UInt64(IOTLB.defaultSlots) : nslabs }
}
