/// Kernel semantics the model follows, named by version.
public enum SwiotlbKernel: String, Sendable, CaseIterable {
    /// Linux v5.11: one pool.
    case v5_11 = "v5.11"
    /// Dongli Zhang's RFC v1 on v5.11-rc6: a low pool and an optional 64-bit high pool.
    case rfcV1 = "rfc-v1"
    /// Linux 6.1 (Debian 12's kernel): one pool split into areas with per-area cursors,
    /// `min_align_mask`, per-slot `alloc_size`, the map always copying to the bounce buffer.
    case v6_1 = "v6.1"
}

/// The `swiotlb=` kernel parameter as `setup_io_tlb_npages` reads it.
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

    /// Parses the value after `swiotlb=` with `kernel`'s rules: v5.11
    /// `<nslabs>[,force|,noforce]`, `force`, `noforce`; rfc-v1 `<lo>,<hi>[,force|noforce]` and
    /// `,<hi>,force`. Numbers are base-auto (`0x` hex, leading-0 octal) and rounded up to a
    /// multiple of 128; `noforce` sets every pool to 1 slot.
    public init(parsing text: String, kernel: SwiotlbKernel = .v5_11) {
        var rest = Substring(text)
        if let (n, r, w) = Self.strtoul(rest) { nslabs = IOTLB.alignToSegment(n); rest = r; wrapped = wrapped || w || nslabs < n }
        if rest.first == "," { rest = rest.dropFirst() }
        if kernel == .rfcV1 {
            if let (n, r, w) = Self.strtoul(rest) { let a = IOTLB.alignToSegment(n); highNslabs = a; rest = r; wrapped = wrapped || w || a < n }
            if rest.first == "," { rest = rest.dropFirst() }
        }
        if kernel == .v6_1 {
            if let (n, r, w) = Self.strtoul(rest) { areas = n & 0xffff_ffff; rest = r; wrapped = wrapped || w || n >> 32 != 0 }
            if rest.first == "," { rest = rest.dropFirst() }
        }
        if rest == "force" {
            force = .force
        } else if rest == "noforce" {
            force = .noForce
            // v5.11 keeps a 1-slot pool; v6.1 (swiotlb_force_disable) allocates none.
            nslabs = kernel == .v6_1 ? 0 : 1
            if highNslabs != nil { highNslabs = 1 }
        } else {
            ignored = String(rest)
        }
    }

    /// `simple_strtoul(s, &end, 0)`, only when `s` starts with a digit; wraps on overflow like
    /// the kernel's unsigned long (and says whether it did).
    static func strtoul(_ s: Substring) -> (UInt64, Substring, Bool)? {
        guard let c = s.first, c.isASCII, c.isNumber else { return nil }
        var radix: UInt64 = 10
        var rest = s
        if (rest.hasPrefix("0x") || rest.hasPrefix("0X")), rest.dropFirst(2).first?.isHexDigit == true {
            radix = 16; rest = rest.dropFirst(2)
        } else if rest.hasPrefix("0") {
            radix = 8
        }
        var v: UInt64 = 0
        var wrapped = false
        while let ch = rest.first, let d = ch.hexDigitValue, UInt64(d) < radix {
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
