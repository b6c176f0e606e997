import Foundation
import Testing
import XenModel
import XenPVTestSupport

@testable import xenpv

@Suite("scenario from-capture")
struct ScenarioFromCaptureTests {
    /// What `xenpv scenario from-capture` writes for fixtures/real-xen-default: every value as
    /// its logs print it (serial.log's Xen-e820 lines, banner, dom0_mem, Init. ramdisk, TOTAL,
    /// `Dom0 has maximum 2 VCPUs`; dom0-dmesg.txt's Linux version, Command line and mapped line),
    /// the kernel module's start from dom0's P2M at pfn 0x8391.
    static let expected = """
        # Written by `xenpv scenario` from the logs of a real host: no calibration.
        schema: 1
        name: "the host captured in real-xen-default"
        host:
          e820:
            - {start: 0x0, size: 0x9fc00, type: ram}
            - {start: 0x9fc00, size: 0x400, type: reserved}
            - {start: 0xf0000, size: 0x10000, type: reserved}
            - {start: 0x100000, size: 0x7fedd000, type: ram}
            - {start: 0x7ffdd000, size: 0x23000, type: reserved}
            - {start: 0xfffc0000, size: 0x40000, type: reserved}
            - {start: 0xfd00000000, size: 0x300000000, type: reserved}
        xen:
          version: "4.17"
          package: "4.17.7+13-g2445b30a44-0+deb12u1"
          dom0_mem: "768M,max:768M"
          kernel_module: {start: 0x7a7f7, end: 0x7f66f}
          initrd: {start: 0x7f66f, end: 0x7fa00}
          initial_mapping: 0x4c00000
        guest:
          type: pv-dom0
          kernel: v6.1
          cmdline: "console=hvc0 earlyprintk=xen rdinit=/init loglevel=7 xq.mode=default"
          cpus: 2
          swiotlb_end: 0x2ec00000

        """

    @Test("the default capture's scenario, without calibration, reproduces the capture in every category")
    func defaultCapture() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let out = d.path + "/s.yaml"
        #expect(refusal(["scenario", "from-capture", realXenDefaultFixture, "--output", out]) == nil)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(text == Self.expected)
        #expect(!text.contains("boot_regions") && !text.contains("heap_inventory"))
        let s = try ScenarioParser.parse(text, file: out)
        let run = WorkloadRunner.run(s)
        #expect(run.boot.xenLog.contains(" Dom0 alloc.:   0000000070000000->0000000078000000 (162927 pages to be allocated)"))
        let p2m = try #require(run.p2mDump)
        #expect(p2m.size == 196705)
        // compare-real on it prints every category at 100%.
        #expect(refusal(["compare-real", out, realXenDefaultFixture, "--json", d.path + "/agree.json"]) == nil)
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d.path + "/agree.json"))) as? [String: Any])
        let categories = try #require(json["categories"] as? [[String: Any]])
        let counts = categories.map { "\($0["name"] ?? "") \($0["identical"] ?? "") \($0["total"] ?? "")" }
        #expect(
            counts == [
                "P2M entries 196705 196705", "P2M runs 657 657", "swiotlb segments 256 256",
                "M2P entries of domain frames 196608 196608", "log lines 13 13", "debugfs values 2 2",
            ])
    }

    @Test("a folder without Xen's log, dom0's log or its P2M is one line naming what it lacks; other files are ignored")
    func missingFiles() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        _ = try d.write("notes.md", "not a capture file\n")
        _ = try d.write("dom0-dmesg.txt", try String(contentsOfFile: realXenDefaultFixture + "/dom0-dmesg.txt", encoding: .utf8))
        #expect(refusal(["scenario", "from-capture", d.path]) == "Error: \(d.path): no serial.log or xl-dmesg.txt (Xen's boot log)")
        try FileManager.default.copyItem(atPath: realXenDefaultFixture + "/serial.log", toPath: d.path + "/serial.log")
        #expect(
            refusal(["scenario", "from-capture", d.path])
                == "Error: \(d.path): no vmlinuz or bzImage, dom0-p2m.txt or dump-p2m.txt (dom0's kernel image or P2M, which place the kernel module)")
        try FileManager.default.removeItem(atPath: d.path + "/dom0-dmesg.txt")
        #expect(refusal(["scenario", "from-capture", d.path]) == "Error: \(d.path): no dom0-dmesg.txt (dom0's kernel log)")
        #expect(refusal(["scenario", "from-capture", d.path + "/serial.log"]) == "Error: \(d.path)/serial.log: not a folder (give the capture folder)")
    }

    /// A file laid out as Debian's linux-image-6.1.0-57-amd64 `vmlinuz` (BzImageTests): its size,
    /// setup header, xz payload start and the payload's last four bytes; zeros elsewhere.
    static func debianKernelImage(bytes: Int = 8_247_232) -> Data {
        var d = Data(count: bytes)
        let header: [(Int, [UInt8])] = [
            (0x1f1, [39]), (0x202, Array("HdrS".utf8)), (0x206, [0x0f, 0x02]),
            (0x248, [0xcc, 0x02, 0, 0, 0xe4, 0xef, 0x7b, 0]), (0x52cc, [0xfd, 0x37]), (0x7c42ac, [0xb4, 0xa7, 0xed, 0x03]),
        ]
        for (at, b) in header where at + b.count <= bytes { d.replaceSubrange(at..<(at + b.count), with: b) }
        return d
    }

    @Test("the kernel module's place from dom0's kernel image, with or without the P2M")
    func kernelImage() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        for name in ["serial.log", "dom0-dmesg.txt"] {
            try FileManager.default.copyItem(atPath: realXenDefaultFixture + "/" + name, toPath: d.path + "/" + name)
        }
        _ = try d.write("notes.txt", "an extra file\n")
        try Self.debianKernelImage().write(to: URL(fileURLWithPath: d.path + "/vmlinuz"))
        let out = d.path + "/s.yaml"
        #expect(refusal(["scenario", "from-capture", d.path, "--output", out]) == nil)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        let name = String(d.path.split(separator: "/").last ?? "")
        #expect(text == Self.expected.replacingOccurrences(of: "real-xen-default", with: name))
        // The P2M beside it agrees (0x7a7f7). An image three pages longer starts the module at
        // 0x7a7f4: the image wins (the P2M's page is the heap's first order-0 block, the
        // module's first frame only on hosts like this one).
        try FileManager.default.createSymbolicLink(atPath: d.path + "/dom0-p2m.txt.xz", withDestinationPath: realXenDefaultFixture + "/dom0-p2m.txt.xz")
        #expect(refusal(["scenario", "from-capture", d.path, "--output", out]) == nil)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == text)
        try Self.debianKernelImage(bytes: 8_247_232 + 0x3000).write(to: URL(fileURLWithPath: d.path + "/vmlinuz"))
        #expect(refusal(["scenario", "from-capture", d.path, "--output", out]) == nil)
        #expect(try String(contentsOfFile: out, encoding: .utf8) == text.replacingOccurrences(of: "{start: 0x7a7f7,", with: "{start: 0x7a7f4,"))
        try Self.debianKernelImage(bytes: 0x200).write(to: URL(fileURLWithPath: d.path + "/vmlinuz"))
        #expect(
            refusal(["scenario", "from-capture", d.path])
                == "Error: \(d.path)/vmlinuz: not a kernel image Xen 4.17 boots: shorter than a bzImage setup header (592 bytes)")
    }

    @Test("a malformed E820 line of Xen's log is refused with its file and line")
    func malformedLine() throws {
        let d = try DumpFolder()
        defer { d.remove() }
        let serial = try d.write("serial.log", "(XEN) Xen-e820 RAM map:\n(XEN)  [0000000000000000, zzzz] (usable)\n")
        _ = try d.write("dom0-dmesg.txt", "[    0.000000] Linux version 6.1.0-56-amd64 #1 SMP Debian 6.1.192-2\n")
        #expect(
            refusal(["scenario", "from-capture", d.path])
                == "Error: \(serial):2: expected ' [<start>, <end>] (<type>)', got ' [0000000000000000, zzzz] (usable)'")
    }
}
