import Testing
import XenMemory

@testable import Swiotlb

/// The edges of the one-pass line reader (a value is read from its `=` and must be followed by
/// a separator, `#` or the line's end; keys are looked up as words of their bytes): each line
/// is read alone, and the op or the refusal is the one `docs/trace-format.md` gives.
@Suite("trace line parser")
struct TraceLineParserTests {
    /// The last line's op (the lines before it set up what it needs: a map for an unmap).
    func read(_ text: String, kernel: SwiotlbKernel = .v6_1) -> Result<TraceOp?, TraceError> {
        var reader = TraceReader(kernel: kernel)
        var op: TraceOp?
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do throws(TraceError) { op = try reader.read(line, line: i + 1) } catch { return .failure(error) }
        }
        return .success(op)
    }

    func refusal(_ line: String, kernel: SwiotlbKernel = .v6_1) -> String? {
        guard case .failure(let e) = read(line, kernel: kernel) else { return nil }
        return e.description
    }

    static let refused: [(String, String)] = [
        // A key ending in NUL bytes is not the key its other bytes spell.
        ("unmap id\u{0}=x", "line 1: unknown key: 'id\\u{0}=x'"),
        ("map id=a orig=0x1 size\u{0}=1 dir=none", "line 1: unknown key: 'size\\u{0}=1'"),
        ("map id=a orig=0x1 size=1 dir=none cpu\u{0}\u{0}=1", "line 1: unknown key: 'cpu\\u{0}\\u{0}=1'"),
        // A key cut by the line's end, by a separator, or empty.
        ("unmap id", "line 1: expected key=value: 'id'"),
        ("unmap i", "line 1: expected key=value: 'i'"),
        ("map id=a orig=0x1 size=1 dir=none seg_mask", "line 1: expected key=value: 'seg_mask'"),
        ("unmap id =x", "line 1: expected key=value: 'id'"),
        ("unmap =x", "line 1: expected key=value: '=x'"),
        // A byte below 0x24 that is not a separator belongs to the token.
        ("map id=a orig=0x1 size=12\u{1} dir=none", "line 1: expected a decimal number: 'size=12\\u{1}'"),
        ("map id=a orig=0x1\u{1} size=1 dir=none", "line 1: expected 0x-prefixed hex that fits in 64 bits: 'orig=0x1\\u{1}'"),
        ("map id=a orig=0x1 size=1 dir=none\"", "line 1: dir must be to_device, from_device, bidirectional or none: 'dir=none\"'"),
        ("map\u{1} id=a", "line 1: unknown op (expected pool, map, unmap or sync): 'map\\u{1}'"),
        ("unmap! id=a", "line 1: unknown op (expected pool, map, unmap or sync): 'unmap!'"),
        ("unmapunmap id=a", "line 1: unknown op (expected pool, map, unmap or sync): 'unmapunmap'"),
        // Hex: 16 digits at most, leading zeros counted; `0x` alone is no number.
        ("map id=a orig=0x00000000000000001 size=1 dir=none", "line 1: expected 0x-prefixed hex that fits in 64 bits: 'orig=0x00000000000000001'"),
        ("map id=a orig=0x size=1 dir=none", "line 1: expected 0x-prefixed hex that fits in 64 bits: 'orig=0x'"),
        ("map id=a orig=0x1g size=1 dir=none", "line 1: expected 0x-prefixed hex that fits in 64 bits: 'orig=0x1g'"),
        ("map id=a size=1 dir=none orig=0", "line 1: expected 0x-prefixed hex that fits in 64 bits: 'orig=0'"),
        (
            "map id=a orig=0x1 size=1 dir=none min_align=0x100000000",
            "line 1: min_align must fit in 32 bits (the kernel's unsigned int): 'min_align=0x100000000'"
        ),
        // Decimals: empty, signed, or followed by more than digits.
        ("map id=a orig=0x1 size= dir=none", "line 1: expected a decimal number: 'size='"),
        ("map id=a orig=0x1 size=+1 dir=none", "line 1: expected a decimal number: 'size=+1'"),
        ("map id=a orig=0x1 size=1 dir=none cpu=1048577", "line 1: cpu must be at most 1048576: 'cpu=1048577'"),
        // Words: exactly the names, each then a separator (or `,` between attributes).
        ("map id=a orig=0x1 size=1 dir=nonex", "line 1: dir must be to_device, from_device, bidirectional or none: 'dir=nonex'"),
        ("map id=a orig=0x1 size=1 dir=to_devic", "line 1: dir must be to_device, from_device, bidirectional or none: 'dir=to_devic'"),
        ("map id=a orig=0x1 size=1 dir=", "line 1: dir must be to_device, from_device, bidirectional or none: 'dir='"),
        ("map id=a orig=0x1 size=1 dir=none attrs=no_warn,", "line 1: attrs must be skip_cpu_sync and/or no_warn: 'attrs=no_warn,'"),
        (
            "map id=a orig=0x1 size=1 dir=none attrs=skip_cpu_sync,,no_warn",
            "line 1: attrs must be skip_cpu_sync and/or no_warn: 'attrs=skip_cpu_sync,,no_warn'"
        ),
        ("map id=a orig=0x1 size=1 dir=none attrs=skip_cpu_syncx", "line 1: attrs must be skip_cpu_sync and/or no_warn: 'attrs=skip_cpu_syncx'"),
        ("sync id=a target=devicex", "line 1: target must be cpu or device: 'target=devicex'"),
        ("unmap id=", "line 1: empty value: 'id='"),
        ("unmap id=a id=b", "line 1: repeated key: 'id=b'"),
        ("map id=a orig=0x1 size=1 dir=none dev=", "line 1: empty value: 'dev='"),
        // The refusal quotes the whole token, past a second `=`.
        ("map id=a orig=0x1 size=1=2 dir=none", "line 1: expected a decimal number: 'size=1=2'"),
    ]

    @Test("a malformed line is refused with its whole token", arguments: refused)
    func refusals(line: String, message: String) {
        #expect(refusal(line) == message)
    }

    /// Lines of 1 to 7 bytes, read a byte at a time from the line's end (no eight-byte word
    /// fits): each op word, key and value cut at the line's end, one line of each length.
    static let short: [(String, String)] = [
        ("m", "line 1: unknown op (expected pool, map, unmap or sync): 'm'"),
        ("\u{1}", "line 1: unknown op (expected pool, map, unmap or sync): '\\u{1}'"),
        ("id", "line 1: unknown op (expected pool, map, unmap or sync): 'id'"),
        ("x=1", "line 1: unknown op (expected pool, map, unmap or sync): 'x=1'"),
        ("map", "line 1: missing key 'id': 'id'"),
        ("map ", "line 1: missing key 'id': 'id'"),
        ("pool", "line 1: missing key 'nslabs': 'nslabs'"),
        ("sync ", "line 1: missing key 'id': 'id'"),
        ("unmap", "line 1: missing key 'id': 'id'"),
        ("map i=", "line 1: unknown key: 'i='"),
        ("unmap i", "line 1: expected key=value: 'i'"),
        ("map i=1", "line 1: unknown key: 'i=1'"),
        ("sync id", "line 1: expected key=value: 'id'"),
        ("unmap =", "line 1: expected key=value: '='"),
        ("pool x", "line 1: expected key=value: 'x'"),
        ("mapmap", "line 1: unknown op (expected pool, map, unmap or sync): 'mapmap'"),
        ("unmap#x", "line 1: missing key 'id': 'id'"),
    ]

    @Test("a line of 1 to 7 bytes is read to its end and refused with its token", arguments: short)
    func shortLines(line: String, message: String) {
        #expect((1...7).contains(line.utf8.count))
        #expect(refusal(line) == message)
    }

    @Test("a v2 allocation field a kernel does not honour is refused before its value is read")
    func notHonoured() {
        #expect(
            refusal("map id=a orig=0x1 size=1 dir=none align=0x3", kernel: .v5_11)
                == "line 1: kernel v5.11 cannot honour this field (format v2; only v6.1 and v6.18 read it): 'align=0x3'")
        #expect(
            refusal("map id=a orig=0x1 size=1 dir=none min_align=zz", kernel: .v5_11)
                == "line 1: kernel v5.11 cannot honour this field (format v2; only v6.1 and v6.18 read it): 'min_align=zz'")
    }

    @Test("a value ends at a space, tab, CR, `#` or the line's end")
    func valueEnds() throws {
        let mapX = "map id=x orig=0x1 size=1 dir=bidirectional\n"
        #expect(try read(mapX + "unmap id=x#c").get() == .unmap(id: "x"))
        #expect(try read(mapX + "unmap id=x\r").get() == .unmap(id: "x"))
        #expect(try read(mapX + "sync id=x\ttarget=cpu#").get() == .sync(id: "x", target: .cpu))
        #expect(
            try read("map id=a orig=0XaBcDeF dir=none size=12#x dir=to_device").get()
                == .map(TraceMap(id: "a", original: PhysicalAddress(0xab_cdef), size: 12, direction: DMADirection.none)))
        #expect(
            try read("map id=a orig=0x1 size=1 dir=bidirectional\tattrs=skip_cpu_sync,no_warn#").get()
                == .map(TraceMap(id: "a", original: PhysicalAddress(1), size: 1, direction: .bidirectional, attributes: [.skipCPUSync, .noWarn])))
        #expect(try read("   ").get() == nil)
        #expect(try read("# map id=x").get() == nil)
    }

    @Test("short lines and keys of every length: the op or key alone, 8-byte and longer keys at the line's end")
    func keysAndLengths() throws {
        #expect(refusal("map") == "line 1: missing key 'id': 'id'")
        #expect(refusal("sync") == "line 1: missing key 'id': 'id'")
        #expect(try read("map id=x orig=0x1 size=1 dir=none\nunmap id=x").get() == .unmap(id: "x"))
        #expect(
            try read("map id=a orig=0xffffffffffffffff size=1 alloc=2 dir=to_device dma_mask=0xffffffff seg_mask=0xffff").get()
                == .map(
                    TraceMap(
                        id: "a", original: PhysicalAddress(.max), size: 1, alloc: 2, direction: .toDevice, segmentMask: 0xffff, dmaMask: 0xffff_ffff)))
        #expect(
            try read("map id=a orig=0x0000000000000001 size=1 dir=from_device kernel_used=5 cpu=3 kernel_tlb=0x10 min_align=0xfff align=0x3")
                .get()
                == .map(
                    TraceMap(
                        id: "a", original: PhysicalAddress(1), size: 1, direction: .fromDevice, minAlign: 0xfff, alignMask: 3, cpu: 3,
                        kernelTLB: PhysicalAddress(0x10))))
        #expect(
            try read("map id=a orig=0x1 size=1 dir=none dev=0000:00:01.0 driver=nvme").get()
                == .map(TraceMap(id: "a", original: PhysicalAddress(1), size: 1, direction: DMADirection.none, device: "0000:00:01.0", driver: "nvme")))
        #expect(try read("pool nslabs=128 start=0x100000 name=").get() == .pool(nslabs: 128, start: PhysicalAddress(0x10_0000), areas: 1, name: ""))
        #expect(
            try read("pool nslabs=128 start=0x100000 areas=2 name=low").get() == .pool(nslabs: 256, start: PhysicalAddress(0x10_0000), areas: 2, name: "low"))
    }
}
