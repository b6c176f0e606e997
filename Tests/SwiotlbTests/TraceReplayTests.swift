import Testing

@testable import Swiotlb

@Suite("trace replay")
struct TraceReplayTests {
    func replay(_ text: String, kernel: SwiotlbKernel = .v5_11) -> (lines: [String], messages: [String], error: TraceError?) {
        var r = TraceReplayer(kernel: kernel)
        var out: [String] = [], msgs: [String] = []
        for (i, line) in text.split(separator: "\n", omittingEmptySubsequences: false).enumerated() {
            do { out += try r.feed(line, line: i + 1) } catch { return (out, msgs + r.takeMessages().map(\.description), error) }
            msgs += r.takeMessages().map(\.description)
        }
        do { return (out + (try r.finish()), msgs, nil) } catch { return (out, msgs, error) }
    }

    /// FNV-1a written out independently of the implementation.
    func fnv(_ list: [UInt32]) -> String {
        var h: UInt64 = 14_695_981_039_346_656_037
        for v in list { for b in [v & 255, (v >> 8) & 255, (v >> 16) & 255, v >> 24] { h = (h ^ UInt64(b)) &* 1_099_511_628_211 } }
        return "checksum list=0x" + String(h, radix: 16)
    }

    func freshList(_ n: Int) -> [UInt32] { (0..<n).map { UInt32(128 - $0 % 128) } }

    @Test("bounced bytes are counted without data, and moved through scratch memory on request", arguments: [false, true])
    func bouncedBytes(moves: Bool) throws {
        var r = TraceReplayer(movesBytes: moves)
        let lines = [
            "pool nslabs=256 start=0xbbfdb000",
            "map id=a orig=0x1000 size=5000 dir=to_device",  // map copies 5000 out
            "map id=b orig=0x9000 size=4000 dir=from_device",  // unmap copies 4000 back
            "map id=c orig=0x20000 size=3000 dir=bidirectional attrs=skip_cpu_sync",
            "sync id=c target=device",  // 3000 out
            "unmap id=a", "unmap id=b", "unmap id=c",
        ]  // c: skip_cpu_sync, no copy
        var out = ReplayOutput(capacity: 16)
        for (i, l) in lines.enumerated() {
            try l.utf8CString.withUnsafeBufferPointer { b throws(TraceError) in
                try b.withMemoryRebound(to: UInt8.self) { u throws(TraceError) in
                    try r.feed(bytes: UnsafeBufferPointer(rebasing: u.dropLast()), line: i + 1, into: &out)
                }
            }
        }
        #expect(
            out.lines == [
                "map id=a tlb=0xbbfdb000 used=3", "map id=b tlb=0xbbfdc800 used=5", "map id=c tlb=0xbbfdd800 used=7",
                "unmap id=a used=4", "unmap id=b used=2", "unmap id=c used=0",
            ])
        #expect(r.bytesBounced == 5000 + 4000 + 3000)
        #expect(r.tlb?.copiesData == moves)
    }

    @Test("golden: the worked example")
    func goldenWorked() {
        let r = replay(
            """
            # the reference's section 1.7 example
            pool nslabs=256 start=0xbbfdb000
            map id=a orig=0x1000 size=5000 dir=to_device
            map id=b orig=0x9000 size=4000 dir=from_device
            unmap id=a
            unmap id=b
            """)
        #expect(r.error == nil)
        #expect(
            r.lines == [
                "map id=a tlb=0xbbfdb000 used=3",
                "map id=b tlb=0xbbfdc800 used=5",
                "unmap id=a used=2",
                "unmap id=b used=0",
                "final used=0 index=5",
                fnv(freshList(256)),
            ])
    }

    @Test("golden: boundary, stride, full, invalid size and a fragmented final list")
    func goldenMixed() {
        var text = "pool nslabs=128 start=0xbbfdb000\n"
        for i in 0..<7 { text += "map id=s\(i) orig=0x\(String(i * 0x1000, radix: 16)) size=2048 dir=none\n" }
        text += """
            map id=bnd orig=0x100000 size=8192 dir=to_device seg_mask=0xffff
            map id=bad orig=0x0 size=5000 alloc=4096 dir=to_device
            map id=big orig=0x0 size=262144 dir=bidirectional
            unmap id=s3
            map id=pg orig=0x0 size=4096 dir=to_device attrs=skip_cpu_sync,no_warn
            """
        let r = replay(text)
        #expect(r.error == nil)
        #expect(
            Array(r.lines[7..<13]) == [
                "map id=bnd tlb=0xbbfe0000 used=11",
                "map id=bad error=invalid-size",
                "map id=big error=full used=11",
                "unmap id=s3 used=10",
                "map id=pg tlb=0xbbfe2000 used=12",
                "final used=12 index=16",
            ])
        #expect(
            r.messages == [
                "Invalid sizes (mapping: 5000 bytes, alloc: 4096 bytes)",
                "swiotlb buffer is full (sz: 262144 bytes), total 128 (slots), used 11 (slots)",
            ])
        // Slots 0–2, 4–6, 10–13 and 14–15 used; 3 and 7–9 free, then 112 free to the segment end.
        var list = [UInt32](repeating: 0, count: 128)
        list[3] = 1; list[7] = 3; list[8] = 2; list[9] = 1
        for i in 16..<128 { list[i] = UInt32(128 - i) }
        #expect(r.lines.last == fnv(list))
    }

    @Test("two pools: 64-bit masks go high, others low; one final line per pool")
    func goldenTwoPools() {
        let r = replay(
            """
            pool nslabs=128 start=0x234e00000
            pool nslabs=256 start=0x166f33000
            map id=n orig=0x1000 size=4096 dir=to_device
            map id=l orig=0x2000 size=4096 dir=to_device dma_mask=0xffffffff
            unmap id=n
            """, kernel: .rfcV1)
        #expect(
            r.lines == [
                "map id=n tlb=0x166f33000 used=2",
                "map id=l tlb=0x234e00000 used=2",
                "unmap id=n used=0",
                "final used=2 index=2",
                "final pool=High Mem used=0 index=2",
                fnv([0, 0] + (2..<128).map { UInt32(128 - $0) }),
            ])
    }

    static let malformed: [(String, Int, String)] = [
        ("pool nslabs=128 start=0x0\nfrob id=1", 2, "line 2: unknown op (expected pool, map, unmap or sync): 'frob'"),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 dir=none", 2, "line 2: missing key 'size': 'size'"),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0xZZ size=1 dir=none", 2, "line 2: expected 0x-prefixed hex that fits in 64 bits: 'orig=0xZZ'"),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=12 size=1 dir=none", 2, "line 2: expected 0x-prefixed hex that fits in 64 bits: 'orig=12'"),
        ("pool nslabs=128 start=0x0\nunmap id=7", 2, "line 2: unknown id: 'id=7'"),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=1 dir=none\nmap id=1 orig=0x0 size=1 dir=none", 3, "line 3: duplicate id (still mapped): 'id=1'"),
        (
            "pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=1 dir=none\npool nslabs=128 start=0x100000", 3,
            "line 3: pool lines must come before every other op: 'pool'"
        ),
        ("map id=1 orig=0x0 size=1 dir=none", 1, "line 1: a pool line must come first: 'map'"),
        ("pool nslabs=100 start=0x0", 1, "line 1: nslabs must be 1 or a multiple of 128 up to 33554432: 'nslabs=100'"),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=1 dir=none color=red", 2, "line 2: unknown key: 'color=red'"),
        (
            "pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=1 dir=none\nsync id=1 target=cpu", 3,
            "line 3: kernel BUG: sync for cpu with direction none: 'id=1'"
        ),
        (
            "pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=1 dir=none seg_mask=0x1234", 2,
            "line 2: kernel BUG: segment boundary mask 0x1234 is not 2^n-1: 'id=1'"
        ),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=300000 dir=none\nunmap id=1", 3, "line 3: id is not mapped (its map failed): 'id=1'"),
        // Decimals: 2^64 - 1 is read (then refused as a size), 2^64 and 21 digits are not numbers.
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=18446744073709551615 dir=none", 2, "line 2: size too large: 'size=18446744073709551615'"),
        (
            "pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=18446744073709551616 dir=none", 2,
            "line 2: expected a decimal number: 'size=18446744073709551616'"
        ),
        (
            "pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=99999999999999999999 dir=none", 2,
            "line 2: expected a decimal number: 'size=99999999999999999999'"
        ),
        (
            "pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=100000000000000000000 dir=none", 2,
            "line 2: expected a decimal number: 'size=100000000000000000000'"
        ),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=12a dir=none", 2, "line 2: expected a decimal number: 'size=12a'"),
        ("pool nslabs=128 start=0x0\nmap id=1 orig=0x0 size=/ dir=none", 2, "line 2: expected a decimal number: 'size=/'"),
    ]

    @Test("malformed input stops with the line number and the token", arguments: malformed)
    func errors(text: String, line: Int, message: String) {
        let r = replay(text)
        #expect(r.error?.line == line)
        #expect(r.error?.description == message)
    }

    @Test("comments, blank lines and tabs are ignored; sync moves nothing in the counters")
    func commentsAndSync() {
        let r = replay(
            "pool nslabs=128 start=0x0  # low pool\n\n\tmap\tid=x orig=0x0 size=10 dir=bidirectional\nsync id=x target=device\nsync id=x target=cpu\nunmap id=x"
        )
        #expect(r.error == nil)
        #expect(r.lines.prefix(2) == ["map id=x tlb=0x0 used=1", "unmap id=x used=0"])
    }
}
