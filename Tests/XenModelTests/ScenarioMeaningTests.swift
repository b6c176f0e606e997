import Swiotlb
import Testing
import XenPVTestSupport

@testable import XenModel

/// Scenario values that parse but mean nothing (or something else): refused with the field, or
/// booted into the failure Xen or Linux would report in its own words.
@Suite("scenario meaning")
struct ScenarioMeaningTests {
    /// A 2 GiB host with a 768 MiB dom0; `host`, `xen`, `guest`, `device` and `streams` replace
    /// their lines (line 2, 3, 4, 5 and 6).
    static func scenario(
        host: String = "{ram: 2G}", xen: String = "{dom0_mem: \"768M,max:768M\"}",
        guest: String = "{type: pv-dom0, cmdline: \"swiotlb=1024,force\"}",
        device: String = "{name: a, dma_bits: 32}", streams: String = "[{fio: {device: a, ops: 100}}]"
    ) -> String {
        "schema: 1\nhost: \(host)\nxen: \(xen)\nguest: \(guest)\ndevices: [\(device)]\nworkload: {streams: \(streams)}"
    }

    static let refused: [(String, String)] = [
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x79200}, {start: 0x100, end: 0x79200}]}"),
            "s.yaml:2: host.boot_regions[1]: boot region 1 (frames 0x100–0x79200) overlaps boot region 0 (frames 0x100–0x79200): the heap would get the same frames twice"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x79200}, {start: 0x79000, end: 0x7a000}]}"),
            "s.yaml:2: host.boot_regions[1]: boot region 1 (frames 0x79000–0x7a000) overlaps boot region 0 (frames 0x100–0x79200): the heap would get the same frames twice"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x80000}]}"),
            "s.yaml:2: host.boot_regions[0]: boot region 0 (frames 0x100–0x80000) is not inside the E820 RAM"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x10, end: 0x80}]}"),
            "s.yaml:2: host.boot_regions[0].start: expected a frame number in 256…1099511627776, got '0x10'"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x79200}], heap_inventory: [{mfn: 0x1000000, order: 0}]}"),
            "s.yaml:2: host.heap_inventory[0]: inventory block 0 (mfn 0x1000000, order 0) is not inside the E820 RAM"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x79200}], heap_inventory: [{mfn: 0x7fc00, order: 8}, {mfn: 0x7fc00, order: 8}]}"),
            "s.yaml:2: host.heap_inventory[1]: inventory block 1 (mfn 0x7fc00, order 8) overlaps inventory block 0 (mfn 0x7fc00, order 8): the heap would get the same frames twice"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x79200}], heap_inventory: [{mfn: 0x1000, order: 4}]}"),
            "s.yaml:2: host.heap_inventory[0]: inventory block 0 (mfn 0x1000, order 4) overlaps boot region 0 (frames 0x100–0x79200): the heap would get the same frames twice"
        ),
        (
            scenario(host: "{ram: 2G, heap_inventory: [{mfn: 0x7fc00, order: 8}]}"),
            "s.yaml:2: host.heap_inventory: needs boot_regions (without them the heap holds all RAM)"
        ),
        (
            scenario(host: "{ram: 2G, taken_below_4g: 1G, boot_regions: [{start: 0x100, end: 0x79200}]}"),
            "s.yaml:2: host.taken_below_4g: give taken_below_4g or boot_regions, not both (boot_regions say what the heap holds)"
        ),
        (
            scenario(host: "{e820: [{start: 0x0, size: 0x9fc00, type: ram}, {start: 0x10000000000000, size: 1G, type: ram}]}"),
            "s.yaml:2: host.e820[1]: E820 RAM entry 1 reaches frame 0x10000040000, past frame 0x10000000000 (2^52 bytes), the end of Xen's heap zones"
        ),
        (
            scenario(guest: "{type: native, memory: 1G, swiotlb_end: 0x2ec00000}"),
            "s.yaml:4: guest.swiotlb_end: applies to a PV guest (a native guest's buffer is placed by its kernel)"
        ),
        (
            scenario(guest: "{type: pv-dom0, cmdline: \"swiotlb=99999999,force\"}"),
            "s.yaml:4: guest.cmdline: swiotlb=99999999,force asks for 100000000 slots; the model holds at most 33554432 in all (64 GiB)"
        ),
        (
            scenario(guest: "{type: pv-dom0, kernel: rfc-v1, cmdline: \"swiotlb=65536,33554432,force\"}"),
            "s.yaml:4: guest.cmdline: swiotlb=65536,33554432,force asks for 33619968 slots; the model holds at most 33554432 in all (64 GiB)"
        ),
        (
            scenario(guest: "{type: pv-dom0, kernel: rfc-v1, cmdline: \"swiotlb=9223372036854775807,9223372036854775807\"}"),
            "s.yaml:4: guest.cmdline: swiotlb=9223372036854775807,9223372036854775807 asks for more than 2^64 slots; the model holds at most 33554432 in all (64 GiB)"
        ),
        (scenario(device: "{name: a, dma_mask: 0}"), "s.yaml:5: devices[0].dma_mask: expected a mask of at least 0xfff (a page), got 0x0"),
        (scenario(device: "{name: a, coherent_mask: 0x7ff}"), "s.yaml:5: devices[0].coherent_mask: expected a mask of at least 0xfff (a page), got 0x7ff"),
        (
            scenario(streams: "[{fio: {device: a, ops: 1500000}}, {network: {device: a, ops: 600000}}]"),
            "s.yaml:6: workload.streams[1]: the workload maps 2100000 buffers up to here; a model run maps at most 2000000"
        ),
        (
            scenario(streams: "[{sg: {device: a, segments: 4096, ops: 1000}}]"),
            "s.yaml:6: workload.streams[0]: the workload maps 4096000 buffers up to here; a model run maps at most 2000000"
        ),
        (
            scenario(streams: "[{fio: {device: a, block_size: 16M, ops: 20000}}]"),
            "s.yaml:6: workload.streams[0]: the workload maps 320000 MiB up to here; a model run maps at most 256 GiB"
        ),
        (
            scenario(
                guest: "{type: pv-dom0, cmdline: \"\(String(repeating: "x", count: 100))\"}",
                device: "{name: \(String(repeating: "é", count: 60)), dma_bits: sixty}"),
            "s.yaml:5: devices[0].dma_bits: expected a bit count in 12…64, got 'sixty'"
        ),
        (
            scenario(device: "{name: a, dma_bits: \(String(repeating: "7", count: 200))}"),
            "s.yaml:5: devices[0].dma_bits: expected a bit count in 12…64, got '\(String(repeating: "7", count: 80))…'"
        ),
        (
            scenario(device: "{name: a, \(String(repeating: "k", count: 200)): 1}"),
            "s.yaml:5: devices[0].\(String(repeating: "k", count: 80))…: unknown key (expected one of: name, driver, dma_bits, dma_mask, coherent_bits, coherent_mask, bus_limit, segment_boundary, max_segment, coherent, min_align_mask, boot_coherent)"
        ),
        (
            scenario(streams: "[{fio: {device: \(String(repeating: "é", count: 50)), ops: 1}}]"),
            "s.yaml:6: workload.streams[0].fio.device: no device named '\(String(repeating: "é", count: 40))…'"
        ),
    ]

    @Test("values that mean nothing are refused with the file, the line and the field", arguments: refused)
    func refusals(text: String, message: String) {
        #expect(errorMessage { try ScenarioParser.parse(text, file: "s.yaml") } == message)
    }

    @Test("YAML syntax errors give Yams' line and problem")
    func yamlErrors() {
        let cases: [(String, String)] = [
            ("schema: 1\nhost: {ram: 1G\n", "x.yaml:3: not valid YAML/JSON: did not find expected ',' or '}' (while parsing a flow mapping at line 2)"),
            ("schema: 1\nhost:\n  ram: 1G\n   bad: [\n", "x.yaml:4: not valid YAML/JSON: mapping values are not allowed in this context"),
            ("schema: 1\nname: \"a\u{1}b\"\n", "x.yaml:2: not valid YAML/JSON: control characters are not allowed"),
        ]
        for (text, message) in cases {
            #expect(errorMessage { try ScenarioParser.parse(text, file: "x.yaml") } == message)
        }
    }

    @Test("v6.1 reads swiotlb=<n>,<areas> as its own; ignored text is a warning in swiotlb cmdline's words")
    func commandLines() throws {
        let areas = try ScenarioParser.parse(Self.scenario(guest: "{type: pv-dom0, kernel: v6.1, cmdline: \"swiotlb=1024,4,force\"}"), file: "s.yaml")
        #expect(areas.warnings.isEmpty)
        #expect(SwiotlbCommandLine(parsing: try #require(areas.guest.swiotlbParameter), kernel: areas.guest.kernel).areas == 4)
        let typo = try ScenarioParser.parse(Self.scenario(guest: "{type: pv-dom0, cmdline: \"swiotlb=1024,forse\"}"), file: "s.yaml")
        #expect(typo.warnings == ["s.yaml:4: guest.cmdline: swiotlb=1024,forse: ignored='forse' (the kernel accepts and ignores it)"])
        // v5.11 has no second number: the RFC's syntax is ignored past the first.
        let rfc = try ScenarioParser.parse(Self.scenario(guest: "{type: pv-dom0, cmdline: \"swiotlb=1024,2048,force\"}"), file: "s.yaml")
        #expect(rfc.warnings == ["s.yaml:4: guest.cmdline: swiotlb=1024,2048,force: ignored='2048,force' (the kernel accepts and ignores it)"])
    }

    static let failingBoots: [(String, String, String)] = [
        (
            scenario(xen: "{dom0_mem: \"max:0\"}"),
            "Xen could not build dom0 (Domain 0 allocation is too small for kernel image (0 pages, the initial mapping and initrd need 32768))",
            "s.yaml:3: xen.dom0_mem: Domain 0 allocation is too small for kernel image (0 pages, the initial mapping and initrd need 32768)"
        ),
        (
            scenario(xen: "{build: release}", guest: "{type: pv-dom0, cmdline: \"swiotlb=1024,force\"}").replacingOccurrences(
                of: "host: {ram: 2G}", with: "host: {ram: 96M}"),
            "Xen could not build dom0 (Domain 0 allocation is too small for kernel image (22768 pages, the initial mapping and initrd need 32768))",
            "s.yaml:3: xen.dom0_mem: Domain 0 allocation is too small for kernel image (22768 pages, the initial mapping and initrd need 32768)"
        ),
        (
            scenario(xen: "{kernel_module: {start: 0x1000000, end: 0x1000100}}"),
            "Xen could not build dom0 (the kernel module (frames 0x1000000–0x1000100) is not inside the E820 RAM)",
            "s.yaml:3: xen.kernel_module: the kernel module (frames 0x1000000–0x1000100) is not inside the E820 RAM"
        ),
        (
            scenario(xen: "{kernel_module: {start: 0x7a000, end: 0x7f000}, initrd: {start: 0x7e000, end: 0x7f800}}"),
            "Xen could not build dom0 (the initrd (frames 0x7e000–0x7f800) overlaps the heap's frames, the other module or frames a domain holds)",
            "s.yaml:3: xen.initrd: the initrd (frames 0x7e000–0x7f800) overlaps the heap's frames, the other module or frames a domain holds"
        ),
        (
            scenario(host: "{ram: 2G, boot_regions: [{start: 0x100, end: 0x79200}]}", xen: "{initrd: {start: 0x79000, end: 0x7a000}}"),
            "Xen could not build dom0 (the initrd (frames 0x79000–0x7a000) overlaps the heap's frames, the other module or frames a domain holds)",
            "s.yaml:3: xen.initrd: the initrd (frames 0x79000–0x7a000) overlaps the heap's frames, the other module or frames a domain holds"
        ),
        (
            scenario(guest: "{type: pv-dom0, cmdline: \"swiotlb=1024,force\", early_reserved: 760M}"),
            "guest.early_reserved: 760 MiB does not fit in the guest's free memory (its largest free range is 752 MiB)",
            "s.yaml:4: guest.early_reserved: 760 MiB does not fit in the guest's free memory (its largest free range is 752 MiB)"
        ),
        (
            scenario(guest: "{type: native, memory: 1G,\n  early_reserved: 1G}"),
            "guest.early_reserved: 1024 MiB does not fit in the guest's free memory (its largest free range is 1022 MiB)",
            "s.yaml:5: guest.early_reserved: 1024 MiB does not fit in the guest's free memory (its largest free range is 1022 MiB)"
        ),
        (
            scenario(guest: "{type: pv-dom0, cmdline: \"swiotlb=1024,force\", swiotlb_end: 0x100000000000}"),
            "guest.swiotlb_end: 0x100000000000 is beyond the guest's memory (its RAM ends at 0x30061000)",
            "s.yaml:4: guest.swiotlb_end: 0x100000000000 is beyond the guest's memory (its RAM ends at 0x30061000)"
        ),
    ]

    @Test("values only the boot can judge fail it, and are refused naming the file, the line and the field", arguments: failingBoots)
    func bootFailures(text: String, failure: String, refusal: String) throws {
        let s = try ScenarioParser.parse(text, file: "s.yaml")
        let boot = ModelBoot.boot(s)
        guard case .failed(let why) = boot.state else { Issue.record("the guest came up"); return }
        #expect(why.description == failure)
        #expect(s.refusal(for: boot)?.description == refusal)
        if failure.contains("Domain 0") { #expect(boot.xenLog.last == "Panic on CPU 0: Domain 0 allocation is too small for kernel image") }
    }

    @Test("a failure the kernel itself would have is no refusal")
    func kernelFailure() throws {
        let s = try ScenarioParser.parse(Self.scenario(guest: "{type: pv-dom0, cmdline: \"swiotlb=1048576,force\"}"), file: "s.yaml")
        let boot = ModelBoot.boot(s)
        #expect(boot.failure == .xenSwiotlbSetUp(rc: -12))
        #expect(s.refusal(for: boot) == nil)
    }
}
