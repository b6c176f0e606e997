import Foundation
import Testing
import XenPVTestSupport

@testable import xenpv

@Suite("compare-real: capture folders")
struct CompareRealCommandTests {
    let scenario = #filePath.components(separatedBy: "/Tests/")[0] + "/docs/examples/real-xen-default.yaml"

    @Test("a missing folder, an empty one, or one without capture files is one line naming it and the files it needs")
    func missingCapture() throws {
        #expect(refusal(["compare-real", scenario, "/nonexistent/capture"]) == "Error: /nonexistent/capture: No such file or directory")
        let d = try DumpFolder()
        defer { d.remove() }
        let expected =
            "expected dom0-p2m.txt[.xz|.gz] or dump-p2m.txt[.xz|.gz], dump-m2p.txt[.xz|.gz], serial.log, xl-dmesg.txt, dom0-dmesg.txt, swiotlb-debugfs.txt, swiotlb-debugfs-after.txt"
        #expect(refusal(["compare-real", scenario, d.path]) == "Error: \(d.path): no capture files in this folder (\(expected))")
        _ = try d.write("notes.md", "not a capture file\n")
        #expect(refusal(["compare-real", scenario, d.path]) == "Error: \(d.path): no capture files in this folder (\(expected))")
        #expect(refusal(["compare-real", scenario, d.path + "/notes.md"]) == "Error: \(d.path)/notes.md: not a capture file name (\(expected))")
    }

    @Test("files that are not the capture's (a dump's stderr, another domain's dump) are ignored; a failed read names its file")
    func extraFiles() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        _ = try d.write("dom0-dmesg.txt", try String(contentsOfFile: realXenDefaultFixture + "/dom0-dmesg.txt", encoding: .utf8))
        _ = try d.write("dump-m2p.txt.stderr", "xc: error: something\n")
        _ = try d.write("dump-p2m-0-synth.txt.xz", "not xz at all\n")
        _ = try d.write("dump-p2m-0.txt", "Could not map domain 0 memory information\n")
        #expect(refusal(["compare-real", scenario, d.path]) == nil)
        // The folder and a file in it, however the folder is spelt, name one file once.
        #expect(refusal(["compare-real", scenario, d.path + "/", d.path + "/dom0-dmesg.txt"]) == nil)
        #expect(refusal(["compare-real", scenario, d.path + "/dom0-dmesg.txt", d.path]) == nil)
        // Two files of one kind: keep one.
        _ = try d.write("dump-m2p.txt", DumpFolder.m2p(maxPage: 4))
        _ = try d.write("dump-m2p.txt.gz", "x")
        let pair = refusal(["compare-real", scenario, d.path]) ?? ""
        #expect(
            pair == "Error: \(d.path)/dump-m2p.txt.gz: \(d.path)/dump-m2p.txt holds the same (dump-m2p.txt): keep one"
                || pair == "Error: \(d.path)/dump-m2p.txt: \(d.path)/dump-m2p.txt.gz holds the same (dump-m2p.txt): keep one")
        try FileManager.default.removeItem(atPath: d.path + "/dump-m2p.txt.gz")
        try FileManager.default.removeItem(atPath: d.path + "/dom0-dmesg.txt")
        try FileManager.default.createDirectory(atPath: d.path + "/dom0-dmesg.txt", withIntermediateDirectories: false)
        #expect(refusal(["compare-real", scenario, d.path]) == "Error: \(d.path)/dom0-dmesg.txt: Is a directory")
    }

    @Test("a kernel log's pool line over the whole address space is refused with its file and line")
    func hugePoolLine() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let log = try d.write("dom0-dmesg.txt", "[    1.9] software IO TLB: mapped [mem 0x0000000000000000-0xffffffffffffffff] (0MB)\n")
        #expect(
            refusal(["compare-real", scenario, d.path])
                == "Error: \(log):1: software IO TLB: mapped [mem 0x0-0xffffffffffffffff]: beyond the 52-bit physical address space")
    }
}
