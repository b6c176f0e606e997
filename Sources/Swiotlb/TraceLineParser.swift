import XenMemory

/// One trace line's fields as read from its bytes (see `docs/trace-format.md`): the id and the
/// names as byte ranges of the line, numbers decoded, every rule the line alone decides
/// checked. The replayer works on this directly, so a line costs no string.
///
/// A parse stores only what the line gives and which keys it gave: an optional key's field
/// reads as its default when the line leaves the key out (no per-line set-up of some twenty
/// fields), and the fields of another op's keys mean nothing.
struct TraceLine {
    /// The op word.
    enum Kind { case pool, map, unmap, sync }

    /// The op.
    var kind: Kind
    /// The keys the line gave (``Key`` bits).
    fileprivate var keys: UInt32 = 0
    /// `id=`: its bytes in the line (map, unmap, sync).
    var id: Range<Int> = 0..<0
    /// `orig=` (map).
    var original: UInt64 = 0
    /// `size=` (map).
    var size = 0
    /// `alloc=`, or `size` when absent (map).
    var alloc = 0
    /// `dir=` (map).
    var direction: DMADirection = .none
    /// `target=` (sync).
    var target: SyncTarget = .cpu
    /// `nslabs=` after the kernel's set-up (pool).
    var nslabs = 0
    /// `start=` (pool).
    var start: UInt64 = 0
    /// The pool's areas after the kernel's set-up (1 for kernels without areas).
    var areas = 1
    // The optional keys' values as read; the properties below give their defaults instead
    // when the line leaves a key out.
    fileprivate var givenAttributes: DMAAttributes = []
    fileprivate var givenSegmentMask: UInt64 = 0, givenDMAMask: UInt64 = 0, givenMinAlign: UInt64 = 0, givenAlignMask: UInt64 = 0
    fileprivate var givenKernelTLB: UInt64 = 0, givenCPU = 0
    fileprivate var givenName = 0..<0, givenDevice = 0..<0, givenDriver = 0..<0

    /// A line of op `kind` without keys (the parser fills it).
    init(kind: Kind) { self.kind = kind }

    /// `attrs=` (map), none when absent.
    var attributes: DMAAttributes { keys & Key.attrs != 0 ? givenAttributes : [] }
    /// `seg_mask=` (map), all ones when absent.
    var segmentMask: UInt64 { keys & Key.segMask != 0 ? givenSegmentMask : .max }
    /// `dma_mask=` (map), all ones when absent.
    var dmaMask: UInt64 { keys & Key.dmaMask != 0 ? givenDMAMask : .max }
    /// `name=` (pool): its bytes in the line.
    var name: Range<Int>? { keys & Key.name != 0 ? givenName : nil }
    /// `min_align=` (map): the device's `dma_get_min_align_mask()` (v6.1), 0 when absent.
    var minAlign: UInt64 { keys & Key.minAlign != 0 ? givenMinAlign : 0 }
    /// Whether the line gives `min_align=`.
    var hasMinAlign: Bool { keys & Key.minAlign != 0 }
    /// `align=` (map): the `alloc_align_mask` argument (v6.1), 0 when absent.
    var alignMask: UInt64 { keys & Key.align != 0 ? givenAlignMask : 0 }
    /// `cpu=` (map): the processor the map runs on, 0 when absent.
    var cpu: Int { keys & Key.cpu != 0 ? givenCPU : 0 }
    /// Whether the line gives `cpu=`.
    var hasCPU: Bool { keys & Key.cpu != 0 }
    /// `dev=` (map): its bytes in the line (the device's name).
    var device: Range<Int>? { keys & Key.dev != 0 ? givenDevice : nil }
    /// `kernel_tlb=` (map): the address a live kernel returned.
    var kernelTLB: UInt64? { keys & Key.kernelTLB != 0 ? givenKernelTLB : nil }
    /// `driver=` (map): its bytes in the line (`dev_driver_string` of the device).
    var driver: Range<Int>? { keys & Key.driver != 0 ? givenDriver : nil }

    /// Bytes `range` of `line` as text (an id, a name, a token for an error).
    static func text(_ range: Range<Int>, of line: UnsafeBufferPointer<UInt8>) -> String {
        String(decoding: UnsafeBufferPointer(rebasing: line[range]), as: UTF8.self)
    }

    /// Runs `body` on the UTF-8 bytes of `text`: the string forms of the byte-level API.
    static func withBytes<R>(of text: Substring, _ body: (UnsafeBufferPointer<UInt8>) throws(TraceError) -> R) throws(TraceError) -> R {
        var copy = String(text)
        var result: Result<R, TraceError>?
        copy.withUTF8 { b in
            do throws(TraceError) { result = .success(try body(b)) } catch { result = .failure(error) }
        }
        return try result!.get()
    }
}

/// Bounds on a trace line's fields.
enum TraceLimits {
    /// The longest id (bytes): ids name mappings, and every result line repeats one.
    static let maxIDBytes = 256
    /// The longest device name (bytes).
    static let maxDeviceBytes = 64
    /// The highest `cpu=` (the kernel's `NR_CPUS` is at most 8192; any number is read the same way).
    static let maxCPU = 1 << 20
}

/// The keys, by bit: id orig size alloc dir attrs seg_mask dma_mask target nslabs start name,
/// then format v2's areas min_align align cpu dev kernel_tlb kernel_used driver.
private enum Key {
    static let id: UInt32 = 1 << 0, orig: UInt32 = 1 << 1, size: UInt32 = 1 << 2, alloc: UInt32 = 1 << 3
    static let dir: UInt32 = 1 << 4, attrs: UInt32 = 1 << 5, segMask: UInt32 = 1 << 6, dmaMask: UInt32 = 1 << 7
    static let target: UInt32 = 1 << 8, nslabs: UInt32 = 1 << 9, start: UInt32 = 1 << 10, name: UInt32 = 1 << 11
    static let areas: UInt32 = 1 << 12, minAlign: UInt32 = 1 << 13, align: UInt32 = 1 << 14, cpu: UInt32 = 1 << 15
    static let dev: UInt32 = 1 << 16, kernelTLB: UInt32 = 1 << 17, kernelUsed: UInt32 = 1 << 18, driver: UInt32 = 1 << 19
    /// Format v2's allocation fields, which a kernel honours or refuses.
    static let allocation: UInt32 = areas | minAlign | align

    /// The key whose name is the `length` bytes of `word` (the name's bytes, first byte lowest;
    /// at most 8), 0 for none. The cases are the names' bytes as numbers: "id" is 0x6469.
    @inline(always)
    static func bit(word w: UInt64, length n: Int) -> UInt32 {
        // No name has a zero byte, so a word whose bytes end before `length` (a key ending in
        // NULs) names no key, though its nonzero bytes may spell one.
        guard (71 &- w.leadingZeroBitCount) &>> 3 == n else { return 0 }
        switch w {
        case 0x6469: return id
        case 0x6769_726f: return orig
        case 0x657a_6973: return size
        case 0x63_6f6c_6c61: return alloc
        case 0x72_6964: return dir
        case 0x73_7274_7461: return attrs
        case 0x6b73_616d_5f67_6573: return segMask
        case 0x6b73_616d_5f61_6d64: return dmaMask
        case 0x7465_6772_6174: return target
        case 0x7362_616c_736e: return nslabs
        case 0x74_7261_7473: return start
        case 0x656d_616e: return name
        case 0x73_6165_7261: return areas
        case 0x6e_6769_6c61: return align
        case 0x75_7063: return cpu
        case 0x76_6564: return dev
        case 0x7265_7669_7264: return driver
        default: return 0
        }
    }
}

/// The byte-level reader of one trace line: tokens are separated by spaces, tabs or CRs, `#`
/// starts a comment, every token after the op is `key=value`. `Kernel`'s rules apply: the
/// format v2 allocation fields it does not honour are refused, and a `pool` line is set up as
/// it sets its pool up.
///
/// Each value is read once, from the byte after its `=`: the number or word, then the check
/// that a separator, `#` or the line's end follows. A refusal quotes the whole token, whose end
/// is found only then.
struct TraceLineParser<Kernel: SwiotlbKernelModel> {
    let b: UnsafeBufferPointer<UInt8>
    let line: Int
    private var i = 0

    /// The longest id (bytes): ids name mappings, and every result line repeats one.
    static var maxIDBytes: Int { TraceLimits.maxIDBytes }
    /// The longest device name (bytes).
    static var maxDeviceBytes: Int { TraceLimits.maxDeviceBytes }
    /// The highest `cpu=`.
    static var maxCPU: Int { TraceLimits.maxCPU }

    /// A reader of `bytes` (one line without its newline), numbered `line` in errors.
    init(bytes: UnsafeBufferPointer<UInt8>, line: Int) {
        self.b = bytes
        self.line = line
    }

    // MARK: Bytes

    /// Space, tab, CR or `#`: one shift of a constant, the test the token loop makes per byte.
    @inline(always)
    private static func endsToken(_ c: UInt8) -> Bool {
        c <= 0x23 && (UInt64(0x9_0000_2200) >> UInt64(c)) & 1 != 0
    }

    /// Whether a value ending before byte `j` ends its token there: `j` is a separator, `#` or
    /// the line's end.
    @inline(always)
    private func endsValue(_ j: Int) -> Bool { j == b.count || Self.endsToken(b[j]) }

    /// A word of eight line bytes with the top bit set in each byte below 0x24 (the separators
    /// and `#` among them, and the zeros past the line's end); exact up to the first such byte.
    @inline(always)
    private static func lowBytes(_ x: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, tops: UInt64 = 0x8080_8080_8080_8080
        return (x &- 0x24 &* ones) & ~x & tops
    }

    /// A word of eight line bytes with the top bit set in each `=`; exact up to the first.
    @inline(always)
    private static func equalSigns(_ w: UInt64) -> UInt64 {
        let ones: UInt64 = 0x0101_0101_0101_0101, tops: UInt64 = 0x8080_8080_8080_8080
        let x = w ^ (0x3d &* ones)
        return (x &- ones) & ~x & tops
    }

    /// The line's bytes from `s` (at most its end) as one word, the first byte lowest; zero
    /// bytes past the line's end.
    @inline(always)
    private func word(at s: Int) -> UInt64 {
        guard let base = UnsafeRawPointer(b.baseAddress) else { return 0 }
        if s <= b.count &- 8 { return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: s, as: UInt64.self)) }
        if b.count >= 8 {
            // The line's last eight bytes, shifted down to start at `s`.
            return UInt64(littleEndian: base.loadUnaligned(fromByteOffset: b.count &- 8, as: UInt64.self)) >> UInt64(8 &* (s &+ 8 &- b.count))
        }
        // A line shorter than eight bytes (only here: no cost to longer lines), read from its
        // last byte down to `s`; nothing when `s` is at or past its end.
        var w: UInt64 = 0
        var k = b.count
        while k > s {
            k &-= 1
            w = w << 8 | UInt64(b[k])
        }
        return w
    }

    /// Whether the line holds `lit` at `j` (what follows is the caller's test): compared as
    /// two overlapping words (8 or 4 bytes) when it is 4 to 16 bytes long, byte by byte
    /// otherwise.
    @inline(always)
    private func has(_ lit: StaticString, at j: Int) -> Bool {
        let n = lit.utf8CodeUnitCount
        guard j <= b.count &- n, let base = b.baseAddress else { return false }
        let x = UnsafeRawPointer(base + j), y = UnsafeRawPointer(lit.utf8Start)
        if n >= 8 && n <= 16 {
            return x.loadUnaligned(as: UInt64.self) == y.loadUnaligned(as: UInt64.self)
                && x.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self) == y.loadUnaligned(fromByteOffset: n - 8, as: UInt64.self)
        }
        if n >= 4 && n < 8 {
            return x.loadUnaligned(as: UInt32.self) == y.loadUnaligned(as: UInt32.self)
                && x.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self) == y.loadUnaligned(fromByteOffset: n - 4, as: UInt32.self)
        }
        for k in 0..<n where x.load(fromByteOffset: k, as: UInt8.self) != y.load(fromByteOffset: k, as: UInt8.self) { return false }
        return true
    }

    /// Whether the value at `j` is exactly `lit`.
    @inline(always)
    private func isValue(_ lit: StaticString, at j: Int) -> Bool {
        has(lit, at: j) && endsValue(j + lit.utf8CodeUnitCount)
    }

    /// Skips separators; false at the end of the line or a comment.
    @inline(always)
    private mutating func skipSpaces() -> Bool {
        while i < b.count {
            let c = b[i]
            if c == 0x23 { return false }
            if !Self.endsToken(c) { return true }
            i += 1
        }
        return false
    }

    /// The end of the token at `s`: its first separator or `#`, or the line's end, eight bytes
    /// at a time.
    @inline(always)
    private func tokenEnd(_ s: Int) -> Int {
        var j = s
        while j < b.count {
            let flags = Self.lowBytes(word(at: j))
            if flags == 0 {
                j += 8
                continue
            }
            j += flags.trailingZeroBitCount >> 3
            // A byte below 0x24 that ends the token, or the line's end; else one that does not.
            guard j < b.count, !Self.endsToken(b[j]) else { return j }
            j += 1
        }
        return j
    }

    // MARK: Refusals

    /// The refusal of the token at `s`, quoted whole.
    @inline(never)
    private func fail(_ s: Int, _ message: String) -> TraceError {
        TraceError(line: line, token: TraceLine.text(s..<tokenEnd(s), of: b), message: message)
    }

    /// Refuses a format v2 allocation field (`bit`, in the token at `s`) that `Kernel` does not
    /// honour, naming the kernels that do.
    @inline(never)
    private func honoured(_ bit: UInt32, _ s: Int) throws(TraceError) {
        let field: TraceFields = bit == Key.areas ? .areas : (bit == Key.minAlign ? .minAlign : .align)
        guard !Kernel.traceFields.contains(field) else { return }
        let readers = SwiotlbKernel.allCases.filter { $0.model.traceFields.contains(field) }.map(\.rawValue)
        let who = readers.count > 1 ? readers.dropLast().joined(separator: ", ") + " and " + readers[readers.count - 1] + " read" : readers.joined() + " reads"
        throw fail(s, "kernel \(Kernel.name) cannot honour this field (format v2; only \(who) it)")
    }

    // MARK: The line

    /// Reads the line into `l` (written in place: a returned line would be copied per line);
    /// false for a blank or comment line, which leaves `l` as it was.
    mutating func parse(into l: inout TraceLine) throws(TraceError) -> Bool {
        guard skipSpaces() else { return false }
        let allowed = try operation(into: &l)
        var f = LineFigures()
        while skipSpaces() {
            let s = i
            let (bit, eq) = try key(at: s)
            guard allowed & bit != 0 else { throw fail(s, "unknown key") }
            guard f.seen & bit == 0 else { throw fail(s, "repeated key") }
            if bit & Key.allocation != 0 { try honoured(bit, s) }
            f.seen |= bit
            try read(bit, s, eq + 1, into: &l, &f)
        }
        l.keys = f.seen
        try complete(&l, f)
        return true
    }

    /// What a line's keys gave that is checked only once the whole line is read.
    private struct LineFigures {
        /// The keys read so far (``Key`` bits).
        var seen: UInt32 = 0
        /// `size=`, `alloc=`, `nslabs=` and `areas=` as read (each meant only when ``seen`` has it).
        var size: UInt64 = 0, alloc: UInt64 = 0, nslabs: UInt64 = 0, areas: UInt64 = 0
        /// Where the `start=` token begins, to quote it in a refusal.
        var startToken = 0
    }

    /// The line's first word: sets `l`'s op; the keys the op takes.
    @inline(always)
    private mutating func operation(into l: inout TraceLine) throws(TraceError) -> UInt32 {
        let s = i
        let w = word(at: s)
        // The op is the bytes before the first byte below 0x24, if that byte ends the token.
        let n = Self.lowBytes(w).trailingZeroBitCount >> 3
        if n < 8 && endsValue(s + n) {
            i = s + n
            switch w & ~(UInt64.max << UInt64(8 * n)) {
            case 0x70_616d:  // map
                l.kind = .map
                return Key.id | Key.orig | Key.size | Key.alloc | Key.dir | Key.attrs | Key.segMask | Key.dmaMask
                    | Key.minAlign | Key.align | Key.cpu | Key.dev | Key.driver | Key.kernelTLB | Key.kernelUsed
            case 0x70_616d_6e75:  // unmap
                l.kind = .unmap
                return Key.id | Key.kernelUsed
            case 0x636e_7973:  // sync
                l.kind = .sync
                return Key.id | Key.target
            case 0x6c6f_6f70:  // pool
                l.kind = .pool
                return Key.nslabs | Key.start | Key.name | Key.areas
            default: break
            }
        }
        throw fail(s, "unknown op (expected pool, map, unmap or sync)")
    }

    /// The key of the token at `s` (its bit, 0 for an unknown key) and the index of its `=`.
    @inline(always)
    private func key(at s: Int) throws(TraceError) -> (bit: UInt32, equals: Int) {
        let w = word(at: s)
        let eqs = Self.equalSigns(w), lows = Self.lowBytes(w)
        // Most keys: an `=` in the first eight bytes before any byte below 0x24.
        if eqs != 0 && eqs.trailingZeroBitCount < lows.trailingZeroBitCount {
            let n = eqs.trailingZeroBitCount >> 3
            if n > 0 { return (Key.bit(word: w & ~(UInt64.max << UInt64(8 * n)), length: n), s + n) }
        } else {
            // Longer keys, and bytes below 0x24 that do not end the token: byte by byte.
            var j = s
            while j < b.count && b[j] != 0x3d && !Self.endsToken(b[j]) { j += 1 }
            if j > s && j < b.count && b[j] == 0x3d { return (longKey(s..<j), j) }
        }
        throw fail(s, "expected key=value")
    }

    /// The bit of the key named by bytes `k` (at least one), 0 for none.
    @inline(never)
    private func longKey(_ k: Range<Int>) -> UInt32 {
        switch k.count {
        case 1...8: return Key.bit(word: word(at: k.lowerBound) & (UInt64.max >> UInt64(64 - 8 * k.count)), length: k.count)
        case 9: return has("min_align", at: k.lowerBound) ? Key.minAlign : 0
        case 10: return has("kernel_tlb", at: k.lowerBound) ? Key.kernelTLB : 0
        case 11: return has("kernel_used", at: k.lowerBound) ? Key.kernelUsed : 0
        default: return 0
        }
    }

    // MARK: Values

    /// The value at `v` of the key `bit` (its token at `s`), into the line or the figures
    /// checked at its end; leaves the cursor after it.
    @inline(always)
    private mutating func read(
        _ bit: UInt32, _ s: Int, _ v: Int, into l: inout TraceLine, _ f: inout LineFigures
    ) throws(TraceError) {
        switch bit {
        case Key.id:
            i = tokenEnd(v)
            guard i > v else { throw fail(s, "empty value") }
            guard i - v <= Self.maxIDBytes else { throw fail(s, "an id is at most \(Self.maxIDBytes) bytes") }
            l.id = v..<i
        case Key.orig: l.original = try hex(s, v)
        case Key.size: f.size = try decimal(s, v)
        case Key.alloc: f.alloc = try decimal(s, v)
        case Key.dir: l.direction = try direction(s, v)
        case Key.attrs: l.givenAttributes = try attributes(s, v)
        case Key.segMask: l.givenSegmentMask = try hex(s, v)
        case Key.dmaMask: l.givenDMAMask = try hex(s, v)
        case Key.target: l.target = try target(s, v)
        case Key.nslabs: f.nslabs = try decimal(s, v)
        case Key.start: l.start = try hex(s, v); f.startToken = s
        case Key.areas: f.areas = try decimal(s, v)
        case Key.minAlign: l.givenMinAlign = try hex(s, v, max: UInt64(UInt32.max), "min_align")
        case Key.align: l.givenAlignMask = try hex(s, v, max: UInt64(UInt32.max), "align")
        case Key.cpu:
            let c = try decimal(s, v)
            guard c <= UInt64(Self.maxCPU) else { throw fail(s, "cpu must be at most \(Self.maxCPU)") }
            l.givenCPU = Int(c)
        case Key.dev: l.givenDevice = try word(s, v, max: Self.maxDeviceBytes, "a device name")
        case Key.driver: l.givenDriver = try word(s, v, max: Self.maxDeviceBytes, "a driver name")
        case Key.kernelTLB: l.givenKernelTLB = try hex(s, v)
        case Key.kernelUsed: _ = try decimal(s, v)
        default:
            i = tokenEnd(v)
            l.givenName = v..<i
        }
    }

    /// `0x` and 1 to 16 hex digits (either case) at `v`, ending the token at `s`.
    @inline(always)
    private mutating func hex(_ s: Int, _ v: Int) throws(TraceError) -> UInt64 {
        var j = v + 2
        guard j <= b.count, b[v] == 0x30, b[v + 1] | 0x20 == 0x78, let n = ByteNumber.hex(b, &j), endsValue(j) else {
            throw fail(s, "expected 0x-prefixed hex that fits in 64 bits")
        }
        i = j
        return n
    }

    /// A hex value no larger than `max` (a 32-bit kernel field), named `what` in the error.
    @inline(never)
    private mutating func hex(_ s: Int, _ v: Int, max: UInt64, _ what: String) throws(TraceError) -> UInt64 {
        let n = try hex(s, v)
        guard n <= max else { throw fail(s, "\(what) must fit in 32 bits (the kernel's unsigned int)") }
        return n
    }

    /// Decimal digits at `v` that fit in 64 bits, ending the token at `s`.
    @inline(always)
    private mutating func decimal(_ s: Int, _ v: Int) throws(TraceError) -> UInt64 {
        var j = v
        guard let n = ByteNumber.decimal(b, &j), endsValue(j) else { throw fail(s, "expected a decimal number") }
        i = j
        return n
    }

    /// A word of 1 to `max` bytes at `v`, named `what` in the error.
    @inline(never)
    private mutating func word(_ s: Int, _ v: Int, max: Int, _ what: String) throws(TraceError) -> Range<Int> {
        i = tokenEnd(v)
        guard i > v else { throw fail(s, "empty value") }
        guard i - v <= max else { throw fail(s, "\(what) is at most \(max) bytes") }
        return v..<i
    }

    /// `skip_cpu_sync` and/or `no_warn`, comma-separated, at `v`.
    @inline(always)
    private mutating func attributes(_ s: Int, _ v: Int) throws(TraceError) -> DMAAttributes {
        var attrs = DMAAttributes()
        var j = v
        while true {
            if has("skip_cpu_sync", at: j) {
                attrs.insert(.skipCPUSync)
                j += 13
            } else if has("no_warn", at: j) {
                attrs.insert(.noWarn)
                j += 7
            } else {
                break
            }
            if endsValue(j) {
                i = j
                return attrs
            }
            guard b[j] == 0x2c else { break }
            j += 1
        }
        throw fail(s, "attrs must be skip_cpu_sync and/or no_warn")
    }

    /// A direction's name at `v`.
    @inline(always)
    private mutating func direction(_ s: Int, _ v: Int) throws(TraceError) -> DMADirection {
        let d: DMADirection, n: Int
        switch v < b.count ? b[v] : 0 {
        case 0x62 where isValue("bidirectional", at: v): (d, n) = (.bidirectional, 13)
        case 0x74 where isValue("to_device", at: v): (d, n) = (.toDevice, 9)
        case 0x66 where isValue("from_device", at: v): (d, n) = (.fromDevice, 11)
        case 0x6e where isValue("none", at: v): (d, n) = (DMADirection.none, 4)
        default: throw fail(s, "dir must be to_device, from_device, bidirectional or none")
        }
        i = v + n
        return d
    }

    /// A sync target's name at `v`.
    @inline(never)
    private mutating func target(_ s: Int, _ v: Int) throws(TraceError) -> SyncTarget {
        if isValue("cpu", at: v) {
            i = v + 3
            return .cpu
        }
        if isValue("device", at: v) {
            i = v + 6
            return .device
        }
        throw fail(s, "target must be cpu or device")
    }

    // MARK: The whole line

    /// The checks a whole line needs: the operation's required keys, a pool's shape under the
    /// kernel's rules and its place below 2^64, a map's sizes.
    @inline(always)
    private func complete(_ l: inout TraceLine, _ f: LineFigures) throws(TraceError) {
        func missing(_ key: String) -> TraceError { TraceError(line: line, token: key, message: "missing key '\(key)'") }
        switch l.kind {
        case .pool:
            guard f.seen & Key.nslabs != 0 else { throw missing("nslabs") }
            let shape = try Kernel.tracePool(nslabs: f.nslabs, areas: f.seen & Key.areas != 0 ? f.areas : nil, line: line)
            l.areas = shape.areas
            let nslabs = UInt64(shape.nslabs)
            guard f.seen & Key.start != 0 else { throw missing("start") }
            let (_, overflow) = l.start.addingReportingOverflow(nslabs << UInt64(IOTLB.shift))
            guard !overflow, l.start % 4096 == 0 else { throw fail(f.startToken, "start must be page aligned and the pool must fit below 2^64") }
            l.nslabs = Int(nslabs)
        case .map:
            guard f.seen & Key.id != 0 else { throw missing("id") }
            guard f.seen & Key.orig != 0 else { throw missing("orig") }
            guard f.seen & Key.size != 0 else { throw missing("size") }
            let a = f.seen & Key.alloc != 0 ? f.alloc : f.size
            guard f.size <= UInt64(Int32.max), a <= UInt64(Int32.max) else {
                throw TraceError(line: line, token: "size=\(f.size)", message: "size too large")
            }
            guard f.seen & Key.dir != 0 else { throw missing("dir") }
            l.size = Int(f.size)
            l.alloc = Int(a)
        case .unmap:
            guard f.seen & Key.id != 0 else { throw missing("id") }
        case .sync:
            guard f.seen & Key.id != 0 else { throw missing("id") }
            guard f.seen & Key.target != 0 else { throw TraceError(line: line, token: "sync", message: "missing key 'target'") }
        }
    }
}
