import Foundation
import Testing

@testable import xenpv

/// A folder of small dumps for `import`, removed afterwards.
struct DumpFolder {
    let path = NSTemporaryDirectory() + "xenpv-import-\(UUID().uuidString)"

    init() throws { try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true) }

    /// Writes `text` as `name` and returns its path.
    func write(_ name: String, _ text: String) throws -> String {
        try Data(text.utf8).write(to: URL(fileURLWithPath: path + "/" + name))
        return path + "/" + name
    }

    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// A dump-p2m of `domid` whose pfn k maps to mfn `base` + k.
    static func p2m(domid: Int, base: Int, count: Int) -> String {
        " --- Dumping P2M for domain \(domid) ---\n Guest Width: 8, PT Levels: 4 P2M size: = \(count)\n"
            + (0..<count).map { "  pfn=0x\(String($0, radix: 16)) ==> mfn=0x\(String(base + $0, radix: 16)) (type 0x0)\n" }.joined()
            + " --- End of P2M for domain \(domid) ---\n"
    }

    /// A dump-m2p of `maxPage` entries, every one INVALID.
    static func m2p(maxPage: Int) -> String {
        " --- Dumping M2P ---\n Max MFN: \(maxPage)\n"
            + (0..<maxPage).map { "  mfn=0x\(String($0, radix: 16)) ==> pfn=0xffffffffffffffff\n" }.joined()
            + " --- End of M2P ---\n"
    }
}

@Suite("import: what the dumps and the kernel log mean")
struct ImportCommandTests {
    @Test("a missing --dmesg file is an error naming it")
    func missingDmesg() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let p = try d.write("p2m.txt", DumpFolder.p2m(domid: 1, base: 0x10, count: 4))
        #expect(
            refusal(["import", p, "--dmesg", d.path + "/no-such-dmesg.txt"])
                == "Error: \(d.path)/no-such-dmesg.txt: No such file or directory (--dmesg)")
        // Told before any dump is read, even a broken one.
        let truncated = try d.write("truncated.txt", String(DumpFolder.p2m(domid: 1, base: 0x10, count: 4).dropLast(33)))
        #expect(
            refusal(["import", truncated, "--dmesg", d.path + "/no-such-dmesg.txt"])
                == "Error: \(d.path)/no-such-dmesg.txt: No such file or directory (--dmesg)")
    }

    @Test("a file that is not a dump is named with its first line quoted as every refusal quotes")
    func notADump() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let first = "\u{1b}[1m" + String(repeating: "x", count: 100)
        let p = try d.write("notes.txt", first + "\nsecond line\n")
        #expect(
            refusal(["import", p])
                == "Error: \(p):1: not an xen-mfndump dump-p2m or dump-m2p (first line '\\u{1b}[1m\(String(repeating: "x", count: 71))…')")
    }

    @Test("a bad dump line is named file:line")
    func badLine() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let p = try d.write("p2m.txt", DumpFolder.p2m(domid: 1, base: 0x10, count: 4).replacingOccurrences(of: "pfn=0x2 ", with: "pfn=0xZ "))
        #expect(
            refusal(["import", p]) == "Error: \(p):5: expected '  pfn=0x<hex> ==> mfn=0x<hex> (type 0x<T>)[ suffix]', got '  pfn=0xZ ==> mfn=0x12 (type 0x0)'")
    }

    @Test("a mapped line over the whole address space is refused with its file and line, at once", .timeLimit(.minutes(1)))
    func hugePoolLine() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let p = try d.write("p2m.txt", DumpFolder.p2m(domid: 0, base: 0x10, count: 4))
        let log = try d.write(
            "dmesg.txt", "[    0.000000] Linux version\n[    1.9] software IO TLB: mapped [mem 0x0000000000000000-0xffffffffffffffff] (0MB)\n")
        #expect(
            refusal(["import", p, "--dmesg", log])
                == "Error: \(log):2: software IO TLB: mapped [mem 0x0-0xffffffffffffffff]: beyond the 52-bit physical address space")
        let beyond = try d.write("dmesg2.txt", "software IO TLB: mapped [mem 0x0000000000000000-0x0000000000100000] (1MB)\n")
        #expect(
            refusal(["import", p, "--dmesg", beyond])
                == "Error: \(beyond):1: software IO TLB: mapped [mem 0x0-…]: pfns 0x0-0xff reach beyond the P2M (4 entries): a log of another domain?")
    }

    @Test("two M2P dumps are refused; two P2M dumps with one --json or --plot are refused and nothing is written")
    func twoDumps() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let m1 = try d.write("m2p-a.txt", DumpFolder.m2p(maxPage: 64))
        let m2 = try d.write("m2p-b.txt", DumpFolder.m2p(maxPage: 64))
        #expect(refusal(["import", m1, m2]) == "Error: \(m2): a second dump-m2p (\(m1) is one): give one M2P")
        let p1 = try d.write("p2m-1.txt", DumpFolder.p2m(domid: 1, base: 0x10, count: 4))
        let p2 = try d.write("p2m-2.txt", DumpFolder.p2m(domid: 2, base: 0x20, count: 4))
        let json = d.path + "/out.json"
        #expect(
            refusal(["import", p1, p2, "--json", json])
                == "Error: --json: 2 P2M dumps given (\(p1), \(p2)), but one report holds one domain: import them one at a time")
        #expect(!FileManager.default.fileExists(atPath: json))
        #expect(
            refusal(["import", p1, p2, "--plot", d.path + "/out.svg"])
                == "Error: --plot: 2 P2M dumps given (\(p1), \(p2)), but one report holds one domain: import them one at a time")
        #expect(refusal(["import", p1, p2]) == nil)
    }

    @Test("without a dump-m2p the JSON's m2p_mismatches is null, with one it is the count")
    func jsonRoundTrip() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let p = try d.write("p2m.txt", DumpFolder.p2m(domid: 1, base: 0x10, count: 4))
        let json = d.path + "/out.json"
        #expect(refusal(["import", p, "--json", json]) == nil)
        #expect(try String(contentsOfFile: json, encoding: .utf8).contains("\"m2p_mismatches\": null,"))
        let m = try d.write("m2p.txt", DumpFolder.m2p(maxPage: 0x20))
        #expect(refusal(["import", m, p, "--json", json]) == nil)
        #expect(try String(contentsOfFile: json, encoding: .utf8).contains("\"m2p_mismatches\": 4,"))
    }

    @Test("a P2M naming machine frames beyond 2^40 is refused, with or without an M2P")
    func framesBeyondTheAddressSpace() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let p = try d.write("p2m.txt", DumpFolder.p2m(domid: 1, base: 0xff_ffff_fffe, count: 4))
        #expect(refusal(["import", p]) == "Error: \(p): pfn 0x2 → mfn 0x10000000000 is beyond x86-64's 2^40 machine frames (52-bit physical addresses)")
    }

    @Test("a P2M naming frames the M2P does not have is refused as dumps of different hosts")
    func framesBeyondTheM2P() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let m = try d.write("m2p.txt", DumpFolder.m2p(maxPage: 0x12))
        let p = try d.write("p2m.txt", DumpFolder.p2m(domid: 1, base: 0x10, count: 4))
        #expect(
            refusal(["import", m, p])
                == "Error: \(p): pfn 0x2 → mfn 0x12 is not below the M2P's Max MFN 18 (\(m)): the dumps are not of one host")
    }
}
