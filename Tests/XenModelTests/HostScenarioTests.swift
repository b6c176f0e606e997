import Swiotlb
import Testing
import XenDumps
import XenMemory
import XenPVTestSupport

@testable import XenModel

/// The scenario of a real host, as `xenpv scenario from-host` assembles it inside a dom0: here
/// fed with what the captured host's hypervisor and dom0 gave (its machine memory map, version,
/// build id and command line, dom0's kernel log and P2M).
@Suite("scenario of a live host")
struct HostScenarioTests {
    func liveEvidence(buildID: String = "151b373fd64b321593bf987fd923cd10dabadac4") throws -> (HostLogEvidence, P2MDumpContents) {
        let p2m = try PFNListDump.read(iterator(commandOutputLines("xz -dc '\(realXenDefaultFixture)/dom0-p2m.txt.xz'")))
        // XENMEM_machine_memory_map of that host: the firmware map with the IO-APIC and local APIC.
        let host = try XenHost(e820: .qemuPC(ramBytes: 2 << 30))
        let e = try HostLogEvidence(
            machineMemoryMap: host.machineMemoryMap, xenVersion: "4.17.7", buildID: buildID,
            xenCommandLine: "dom0_mem=768M,max:768M console=com1 com1=115200,8n1 loglvl=all",
            kernelLog: commandOutputLines("cat '\(realXenDefaultFixture)/dom0-dmesg.txt'"), p2m: p2m.entries)
        return (e, p2m)
    }

    @Test("the initrd's frames come from dom0's P2M at its RAMDISK pfns; the build from its id; the scenario reproduces the host")
    func liveDefaultHost() throws {
        let (e, p2m) = try liveEvidence()
        #expect(e.ramdiskPfns?.raw == 0x8000..<0x8391)  // RAMDISK: [mem 0x08000000-0x08390fff]
        #expect(e.initrd?.raw == 0x7f66f..<0x7fa00)
        #expect(e.initialMapping == 0x8000000)
        #expect(e.dom0VCPUs == 2)  // smpboot: Allowing 2 CPUs
        #expect(e.xenPackage == "4.17.7+13-g2445b30a44-0+deb12u1")
        #expect(e.dom0Mem == "768M,max:768M")
        #expect(HostScenarioWriter.kernelModuleStart(evidence: e, p2m: p2m.entries) == MFN(0x7a7f7))
        let text = try HostScenarioWriter.yaml(
            name: "live", evidence: e,
            placement: .init(kernelModuleStart: MFN(0x7a7f7), devices: [DeviceSpec(name: "0000:00:04.0", dma: .pci("0000:00:04.0", bits: 64))]))
        #expect(text.contains("  kernel_module: {start: 0x7a7f7, end: 0x7f66f}\n  initrd: {start: 0x7f66f, end: 0x7fa00}\n  initial_mapping: 0x8000000\n"))
        #expect(text.hasSuffix("devices:\n  - {name: \"0000:00:04.0\", dma_bits: 64}\n"))
        let run = WorkloadRunner.run(try ScenarioParser.parse(text, file: "live.yaml"))
        let real = try RealCapture(p2m: p2m, m2p: nil, xenLog: [], kernelLog: commandOutputLines("cat '\(realXenDefaultFixture)/dom0-dmesg.txt'"))
        let p2mAgreement = RealComparison.compare(run, real).filter { $0.name.hasPrefix("P2M") }
        #expect(p2mAgreement.map(\.identical) == [196705, 657])
        #expect(p2mAgreement.map(\.total) == [196705, 657])
    }

    @Test("the kernel module's start from the P2M: the physmap frame whose modelled boot gives the same frames (a 6 GiB capture)")
    func kernelModuleFromP2M() throws {
        // /work/wt/captures/bigmem-1 (QEMU -m 6144 -smp 2, dom0_mem=4096M,max:4096M, a 7007-page
        // initrd): "Init. ramdisk: 00000001be4a1000->00000001bffffab1"; dom0's P2M after the
        // initrd: pfn 0x9b5f 0x1b59a2 (a page Xen's boot left), 0x9b60 0x1b9629, 0x9b61 0x1be200.
        var e = try HostLogEvidence(xenLog: [], kernelLog: [])
        e.e820 = HostE820.qemuPC(ramBytes: 6 << 30).entries
        e.xenPackage = XenBuild.debian4_17_7.name
        e.dom0Mem = "4096M,max:4096M"
        e.dom0VCPUs = 2
        e.initrd = Range(raw: 0x1be4a1..<0x1c0000)
        e.initialMapping = 0x8000000
        var p2m = ExtentMap<P2MRun>()
        p2m.set(start: 0x9b5f, count: 1, to: .machine(base: MFN(0x1b59a2)))
        p2m.set(start: 0x9b60, count: 1, to: .machine(base: MFN(0x1b9629)))
        p2m.set(start: 0x9b61, count: 512, to: .machine(base: MFN(0x1be200)))
        #expect(HostScenarioWriter.kernelModuleStart(evidence: e, p2m: p2m) == MFN(0x1b9629))  // 0x1be4a1 - 0x4e78 pages (6.1.0-57's module)
        e.xenPackage = nil  // no modelled build: the L3's frame
        #expect(HostScenarioWriter.kernelModuleStart(evidence: e, p2m: p2m) == MFN(0x1b59a2))
    }

    @Test("an unknown build is written as a comment, and the heap then holds all RAM")
    func unknownBuild() throws {
        let (e, _) = try liveEvidence(buildID: "00")
        #expect(e.xenPackage == nil)
        let text = try HostScenarioWriter.yaml(name: "live", evidence: e, placement: .init())
        #expect(text.contains("  # Xen build \"unknown\": its own boot allocations are not modelled, the heap holds all RAM\n"))
        #expect(!text.contains("package:"))
    }

    @Test("strings from the host are written as JSON string literals, which read back as the same YAML strings")
    func hostileStrings() throws {
        var (e, _) = try liveEvidence()
        let odd = "quote \" backslash \\ newline \n tab \t bell \u{7} del \u{7f} c1 \u{85} é"
        e.kernelCommandLine = odd
        let text = try HostScenarioWriter.yaml(name: odd, evidence: e, placement: .init())
        #expect(text.contains("name: \"quote \\\" backslash \\\\ newline \\n tab \\t bell \\u0007 del \\u007f c1 \\u0085 é\"\n"))
        let s = try ScenarioParser.parse(text, file: "host.yaml")
        #expect(s.name == odd)
        #expect(s.guest.cmdline == odd)
    }

    @Test("what the logs lack or the model does not have is one line")
    func refusals() throws {
        var e = try HostLogEvidence(xenLog: [], kernelLog: [])
        #expect(throws: HostScenarioError.missing("Xen's 'Xen-e820 RAM map:' lines")) {
            try HostScenarioWriter.yaml(name: "x", evidence: e, placement: .init())
        }
        e.e820 = HostE820.qemuPC(ramBytes: 1 << 30).entries
        e.xenVersion = "4.19.1"
        #expect(throws: HostScenarioError.unsupported("Xen 4.19.1 (only 4.17 is modelled)")) {
            try HostScenarioWriter.yaml(name: "x", evidence: e, placement: .init())
        }
        e.xenVersion = "4.17.7"
        e.kernelVersion = "2.6.32"
        let kernels = SwiotlbKernel.allCases.map(\.rawValue).joined(separator: ", ")
        #expect(throws: HostScenarioError.unsupported("Linux 2.6.32 (the model has \(kernels))")) {
            try HostScenarioWriter.yaml(name: "x", evidence: e, placement: .init())
        }
        #expect(HostScenarioError.missing("dom0's 'Linux version' line").description == "no dom0's 'Linux version' line")
    }

    @Test("xen.package: an unknown build, a debug build, or taken_below_4g beside it is refused with its line")
    func packageField() {
        func refusal(_ text: String) -> String? { errorMessage { try ScenarioParser.parse(text, file: "s.yaml") } }
        let head = "schema: 1\nhost:\n  ram: 2G\n"
        let guest = "guest:\n  type: pv-dom0\n"
        #expect(
            refusal(head + "xen:\n  package: \"4.17.5\"\n" + guest)
                == "s.yaml:5: xen.package: the model knows the boot allocations of '4.17.7+13-g2445b30a44-0+deb12u1', got '4.17.5'")
        #expect(
            refusal(head + "xen:\n  build: debug\n  package: 4.17.7+13-g2445b30a44-0+deb12u1\n" + guest)
                == "s.yaml:6: xen.package: 4.17.7+13-g2445b30a44-0+deb12u1 is a release build (build: debug contradicts it)")
        #expect(
            refusal("schema: 1\nhost:\n  ram: 2G\n  taken_below_4g: 64M\nxen:\n  package: 4.17.7+13-g2445b30a44-0+deb12u1\n" + guest)
                == "s.yaml:4: host.taken_below_4g: give taken_below_4g or xen.package, not both (the build's own boot allocations say what Xen took)")
    }
}
