import Foundation
import Testing
import XenMemory
import XenModel
import XenPVTestSupport

@testable import xenpv

/// `scenario from-capture` and `compare-real` on the captures Scripts/capture-host-folder made
/// (Tests/Fixtures/real-captures: a 2 GiB host with a 768 MiB dom0, a 6 GiB host with a 4 GiB
/// dom0 across the PCI hole; each with a 28.7 MB initrd).
@Suite("real capture folders")
struct RealCaptureFolderTests {
    /// The scenario from-capture writes for `capture`, and compare-real's categories on it
    /// (`name identical total`).
    func agreement(_ capture: String) throws -> (text: String, counts: [String]) {
        let d = try DumpFolder()
        defer { d.remove() }
        let out = d.path + "/s.yaml"
        let folder = realCaptureFixture(capture)
        #expect(refusal(["scenario", "from-capture", folder, "--output", out]) == nil)
        let text = try String(contentsOfFile: out, encoding: .utf8)
        #expect(refusal(["compare-real", out, folder, "--json", d.path + "/agree.json"]) == nil)
        let json = try #require(JSONSerialization.jsonObject(with: Data(contentsOf: URL(fileURLWithPath: d.path + "/agree.json"))) as? [String: Any])
        let categories = try #require(json["categories"] as? [[String: Any]])
        return (text, categories.map { "\($0["name"] ?? "") \($0["identical"] ?? "") \($0["total"] ?? "")" })
    }

    @Test("the 6 GiB host: its virtio-blk rings, exchanged at probe, are the device's boot_coherent; the model reproduces the host")
    func bigmemRings() throws {
        let (text, counts) = try agreement("bigmem-1")
        #expect(
            text.hasSuffix(
                """
                devices:
                  - name: "0000:00:03.0"
                    dma_bits: 64
                    boot_coherent:
                      - {pfn: 0x100996, size: 0x2000}
                      - {pfn: 0x100986, size: 0x2000}

                """))
        let run = WorkloadRunner.run(try ScenarioParser.parse(text, file: "s.yaml"))
        let p2m = try #require(run.boot.p2m)
        for ring: UInt64 in [0x100986, 0x100996] {
            // Before the exchange the pages held 0x765a1.. and 0x765b1.. (odd frames at even
            // pfns); after it, one order-1 extent of Xen's heap, aligned to its size.
            let first = try #require(p2m.entries.run(from: ring))
            guard case .machine(let mfn) = first.value else { Issue.record("pfn \(Hex.plain(ring)) not machine: \(first.value)"); continue }
            #expect(first.count == 2 && mfn.rawValue % 2 == 0 && mfn != MFN(0x765a1) && mfn != MFN(0x765b1))
        }
        // Every category identical: Xen's boot and dom0's build (module placed from the P2M),
        // and the two exchanges.
        #expect(counts == ["P2M entries 1310852 1310852", "P2M runs 287 287", "swiotlb segments 256 256", "log lines 14 14", "debugfs values 2 2"])
    }

    @Test("the 2 GiB host: no ring was exchanged, so the scenario names no device")
    func defaultNoRings() throws {
        let (text, counts) = try agreement("default-1")
        #expect(!text.contains("devices:"))
        #expect(text.contains("  kernel_module: {start: 0x79029, end: 0x7dea1}\n  initrd: {start: 0x7dea1, end: 0x7fa00}\n"))
        #expect(counts == ["P2M entries 196705 196705", "P2M runs 654 654", "swiotlb segments 256 256", "log lines 13 13", "debugfs values 2 2"])
    }

    @Test("from-host gives the live P2M's exchanged rings to the PCI device sysfs puts above the log's virtio device")
    func liveRings() throws {
        let folder = realCaptureFixture("bigmem-1")
        let log = try String(contentsOfFile: folder + "/dom0-dmesg.txt", encoding: .utf8).split(whereSeparator: { $0.isNewline })
        guard case .p2m(let p2m) = try DumpFile.read(folder + "/dom0-p2m.txt.xz") else { Issue.record("not a P2M"); return }
        let sysfs = [
            DeviceSpec(name: "0000:00:01.1", dma: .pci("0000:00:01.1", bits: 32)), DeviceSpec(name: "0000:00:03.0", dma: .pci("0000:00:03.0", bits: 64)),
        ]
        let devices = BootCoherentDevices.live(devices: sysfs, kernelLog: log, p2m: p2m.entries) { $0 == "virtio0" ? "0000:00:03.0" : nil }
        #expect(devices.map(\.name) == ["0000:00:01.1", "0000:00:03.0"])
        #expect(devices[0].bootCoherent.isEmpty)
        #expect(devices[1].dma.dmaMask == ~0)
        #expect(devices[1].bootCoherent.map(\.pfn) == [PFN(0x100996), PFN(0x100986)])
        #expect(devices[1].bootCoherent.map(\.size) == [0x2000, 0x2000])
        // No PCI device above the virtio one (no sysfs link): the devices as sysfs gave them.
        let unlinked = BootCoherentDevices.live(devices: sysfs, kernelLog: log, p2m: p2m.entries) { _ in nil }
        #expect(unlinked.map(\.bootCoherent.count) == [0, 0])
    }
}
