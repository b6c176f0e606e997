import Testing
import XenBoot
import XenDumps
import XenLive
import XenMemory
import XenPVTestSupport

#if canImport(Glibc)
    import Glibc
#endif

/// Lines of a string, as a dump reader takes them.
func lines(_ text: String) -> () -> Substring? {
    var it = text.split(separator: "\n", omittingEmptySubsequences: false).makeIterator()
    return {
        guard let l = it.next() else { return nil }
        return l
    }
}

/// A booted model host: the captured QEMU default.
func modelHost() throws -> (XenHost, PVDomain) {
    let host = try XenHost(e820: .qemuPC(ramBytes: 2 << 30), reserved: [Range(raw: 0x7f66f..<0x7fa00)])
    var cfg = Dom0BuildConfig()
    cfg.memory = try Dom0MemoryOption(parsing: "768M,max:768M")
    cfg.initrd = Range(raw: 0x7f66f..<0x7fa00)
    let dom0 = try PVGuestBoot.dom0(on: host, cfg)
    return (dom0.host, dom0.domain)
}

@Suite("xen-mfndump dumps")
struct DumpTests {
    @Test("model → dump → import round-trips exactly, both kinds")
    func roundTrip() throws {
        let (host, dom0) = try modelHost()
        var m2pText: [String] = []
        M2PDump.write(host.m2p) { m2pText.append($0) }
        #expect(m2pText.first == " --- Dumping M2P ---" && m2pText[1] == " Max MFN: 524253")
        #expect(m2pText[2] == "  mfn=0x0 ==> pfn=0xffffffffffffffff")
        #expect(m2pText.count == 524253 + 3 && m2pText.last == " --- End of M2P ---")
        let back = try M2PDump.read(lines(m2pText.joined(separator: "\n")))
        #expect(back == host.m2p)

        let p = P2MDumpContents(domain: dom0, host: host, size: dom0.p2m.lastPfnHint.rawValue)
        var p2mText: [String] = []
        P2MDump.write(p) { p2mText.append($0) }
        #expect(p2mText[0] == " --- Dumping P2M for domain 0 ---")
        #expect(p2mText[1] == " Guest Width: 8, PT Levels: 4 P2M size: = 196705")
        #expect(p2mText[2] == "  pfn=0x0 ==> mfn=0x70000 (type 0x0)")
        #expect(p2mText[2 + 0x9f] == "  pfn=0x9f ==> mfn=0x400000000000009f (type 0xf) invalid")
        #expect(p2mText.last == " --- End of P2M for domain 0 ---")
        let q = try P2MDump.read(lines(p2mText.joined(separator: "\n")))
        #expect(q.size == 196705 && q.entries == p.entries && q.types == p.types)
        var again: [String] = []
        P2MDump.write(q) { again.append($0) }
        #expect(again == p2mText)
    }

    @Test("page type suffixes as xen-mfndump prints them")
    func suffixes() {
        #expect(
            (0...15).map { PageTypeRun(UInt8($0)).suffix } == [
                "", " L1", " L2", " L3", " L4", " <invalid type>", " <invalid type>", " <invalid type>", " <invalid type>",
                " pinned L1", " pinned L2", " pinned L3", " pinned L4", " broken", " xalloc", " invalid",
            ])
    }

    static let badM2P: [(String, String)] = [
        (" --- Dumping M2P ---\n Max MFN: 3\n  mfn=0x0 ==> pfn=0x5\n  mfn=0x1 ==> pfn=0x6", "line 4: truncated: no ' --- End of M2P ---' after 2 of 3 entries"),
        (
            " --- Dumping M2P ---\n Max MFN: 2\n  mfn=0x0 ==> pfn=0xZ5\n --- End of M2P ---",
            "line 3: expected '  mfn=0x<hex> ==> pfn=0x<hex>', got '  mfn=0x0 ==> pfn=0xZ5'"
        ),
        (" --- Dumping P2M ---\n", "line 1: expected ' --- Dumping M2P ---' (an xen-mfndump dump-m2p header)"),
        (" --- Dumping M2P ---\n Max MFN: 2\n  mfn=0x1 ==> pfn=0x5\n  mfn=0x0 ==> pfn=0x6\n --- End of M2P ---", "line 3: mfn 0x1 out of order (expected 0x0)"),
        (" --- Dumping M2P ---\n Max MFN: 2\n  mfn=0x0 ==> pfn=0x5\n --- End of M2P ---", "line 4: truncated: 1 of 2 entries before the footer"),
        (" --- Dumping M2P ---\n Max MFN: x", "line 2: expected ' Max MFN: <decimal>', got ' Max MFN: x'"),
    ]

    @Test("malformed M2P dumps name the line", arguments: badM2P)
    func badM2PDumps(text: String, message: String) {
        do { _ = try M2PDump.read(lines(text)); Issue.record("read") } catch { #expect(error.description == message) }
    }

    static let badP2M: [(String, String)] = [
        (
            " --- Dumping P2M for domain 3 ---\n Guest Width: 8, PT Levels: 4 P2M size: = 2\n  pfn=0x0 ==> mfn=0x10 (type 0x0)\n  pfn=0x2 ==> mfn=0x11 (type 0x0)",
            "line 4: pfn 0x2 out of order (expected 0x1)"
        ),
        (
            " --- Dumping P2M for domain 3 ---\n Guest Width: 8 PT Levels: 4 P2M size: = 2",
            "line 2: expected ' Guest Width: <n>, PT Levels: <n> P2M size: = <n>', got ' Guest Width: 8 PT Levels: 4 P2M size: = 2'"
        ),
        (
            " --- Dumping P2M for domain 3 ---\n Guest Width: 8, PT Levels: 4 P2M size: = 2\n  pfn=0x0 ==> mfn=0x10 (type 0x1)\n",
            "line 3: the type suffix does not match type 0x1"
        ),
        (
            " --- Dumping P2M for domain 3 ---\n Guest Width: 8, PT Levels: 4 P2M size: = 1\n  pfn=0x0 ==> mfn=0x10 (type 0x0)\n --- End of P2M for domain 4 ---",
            "line 4: expected ' --- End of P2M for domain 3 ---'"
        ),
        (
            " --- Dumping P2M for domain 3 ---\n Guest Width: 8, PT Levels: 4 P2M size: = 1\n  pfn=0x0 ==> mfn=0x10000000000000000 (type 0x0)",
            "line 3: expected '  pfn=0x<hex> ==> mfn=0x<hex> (type 0x<T>)[ suffix]', got '  pfn=0x0 ==> mfn=0x10000000000000000 (type 0x0)'"
        ),
    ]

    @Test("malformed P2M dumps name the line", arguments: badP2M)
    func badP2MDumps(text: String, message: String) {
        do { _ = try P2MDump.read(lines(text)); Issue.record("read") } catch { #expect(error.description == message) }
    }

    @Test("a dump of millions of lines streams into a few runs")
    func streaming() throws {
        let n: UInt64 = 3_000_000
        var i: UInt64 = 0
        var header = [" --- Dumping M2P ---", " Max MFN: \(n)"][...]
        let next: () -> Substring? = {
            if let h = header.first { header = header.dropFirst(); return Substring(h) }
            if i == n { i += 1; return " --- End of M2P ---" }
            if i > n { return nil }
            defer { i += 1 }
            return Substring("  mfn=0x\(String(i, radix: 16)) ==> pfn=0x\(String(i < n / 2 ? i + 7 : ~0, radix: 16))")
        }
        let m = try M2PDump.read(next)
        #expect(m.maxPage == MFN(n) && m.runs.extents.count == 1 && m.validCount == n / 2)
    }
}

@Suite("the real capture imports with the figures its notes state")
struct FixtureImportTests {
    func reader(_ file: String) -> () -> Substring? {
        if !isReadable("\(realXenDefaultFixture)/\(file)") {
            Issue.record("fixture \(realXenDefaultFixture)/\(file) not found (shared/ must sit beside the repository)")
        }
        var it = commandOutputLines("xz -dc '\(realXenDefaultFixture)/\(file)'").makeIterator()
        return { it.next() }
    }

    @Test("dump-m2p: Max MFN 524253, 196608 valid entries; dom0 P2M: 196705 entries, 282 runs, 256 segments")
    func realCapture() throws {
        let m2p = try M2PDump.read(reader("dump-m2p.txt.xz"))
        #expect(m2p.maxPage == MFN(524253) && m2p.validCount == 196608)
        let p2m = try PFNListDump.read(reader("dom0-p2m.txt.xz"))
        #expect(p2m.size == 196705)
        let dmesg = commandOutputLines("cat '\(realXenDefaultFixture)/dom0-dmesg.txt'")
        let pools = try SwiotlbPoolLocation.parse(kernelLog: dmesg)
        #expect(pools == [SwiotlbPoolLocation(start: PhysicalAddress(0x2ac0_0000), nslabs: 32768, line: 325)])
        let s = P2MSummary(p2m, source: .dump, m2p: m2p, pools: pools)
        #expect(s.ram == 196608 && s.identity == 97 && s.missing == 0)
        #expect(s.linearRuns == 282)
        #expect(s.m2pMismatches == 0)
        #expect(p2m.entries.extents.prefix(3).map(\.count) == [159, 97, 32512])
        #expect(s.longestRun.pfn == PFN(0x8514) && s.longestRun.mfn == MFN(0x40000) && s.longestRun.pages == 131072)
        #expect(s.poolSegments[0].count == 256 && s.poolSegments[0].allSatisfy { $0.contiguous && $0.below4G && $0.mfn!.rawValue % 64 == 0 })
        #expect(s.poolSegments[0].prefix(5).map { $0.mfn!.rawValue } == [0x1c0, 0x180, 0x140, 0x100, 0x3c0])
        // Every segment where the segment placement formula (docs/xen-swiotlb.md) puts it.
        for (i, seg) in s.poolSegments[0].enumerated() {
            let z = 7 + BitMath.floorLog2(UInt64(i + 4))
            let r = UInt64(i + 4) - (1 << UInt64(z - 7))
            #expect(seg.mfn == MFN((UInt64(1) << UInt64(z)) - 64 * (r + 1)))
        }
    }
}
