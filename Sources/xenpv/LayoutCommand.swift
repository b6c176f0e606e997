import ArgumentParser
import XenBoot
import XenMemory

/// `xenpv layout`: build a host and a PV dom0 and show what Xen and Linux print, and the P2M.
struct LayoutCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "layout",
        abstract: "Build a QEMU-like host and a PV dom0; print the boot lines and the P2M runs.",
        discussion: """
            The defaults are the machine and dom0_mem of the captured real host \
            (shared/fixtures/real-xen-default): qemu -m 2048, whose E820 has RAM up to 0x7ffdcfff as \
            there (that capture's QEMU also had a virtio disk and isa-debug-exit; the QEMU of \
            Scripts/xen-e2e, without them, reserves 0x20000 bytes at the top of low RAM, not \
            0x23000, so its RAM ends at 0x7ffdffff, 0xbffdffff for 6 GiB), and \
            dom0_mem=768M,max:768M. There are no boot modules and the heap holds all RAM: \
            the real log's 162927 pages to be allocated leave out its 913-page initrd, given to dom0 \
            in place; here all 163840 are. For that host frame for frame: `xenpv compare-real \
            docs/examples/real-xen-default.yaml`, or the scenario `xenpv scenario from-capture` writes.
            """
    )

    @Option(
        name: .long, parsing: .unconditional, help: "Host RAM (QEMU -m), e.g. 2G, 20G, 4096M: 64M to 64T (default: 2G).",
        transform: { text in
            let bytes = try SizeArgument.parse(text)
            guard HostE820.qemuPCRAMBytes.contains(bytes) else {
                throw ValidationError("expected \(HostE820.qemuPCRAMExpectation), got \(RefusalLine.quoted(text))")
            }
            return bytes
        })
    var ram: UInt64 = 2 << 30

    @Option(
        name: .customLong("dom0-mem"), parsing: .unconditional, help: "Xen's dom0_mem= value (default: \(defaultDom0Mem)).",
        transform: { text in
            do { return try Dom0MemoryOption(parsing: text) } catch { throw ValidationError("\(error)") }
        })
    var dom0Mem: Dom0MemoryOption?

    /// The captured host's `dom0_mem=`.
    static let defaultDom0Mem = "768M,max:768M"

    @Option(
        name: .customLong("dma-bits"), parsing: .unconditional, help: "Xen's dma_bits= (a DMA zone, as on NUMA hosts): 13…52.",
        transform: { try NumberArgument.integer($0, in: 13...52) })
    var dmaBits: Int?

    @Flag(name: .customLong("debug-build"), help: "Model a debug (CONFIG_DEBUG) hypervisor's scrambled layout.")
    var debugBuild = false

    @Option(
        name: .customLong("max-runs"), parsing: .unconditional, help: "Print at most this many P2M runs (default: 40).",
        transform: NumberArgument.positiveCount)
    var maxRuns: Int = 40

    func run() throws {
        let host: XenHost
        do { host = try XenHost(e820: .qemuPC(ramBytes: ram), dmaBits: dmaBits) } catch {
            throw CLIError("--ram: \(error)")
        }
        var config = Dom0BuildConfig()
        config.memory = try dom0Mem ?? Dom0MemoryOption(parsing: Self.defaultDom0Mem)
        config.debugBuild = debugBuild
        let dom0: PVGuestBoot
        do { dom0 = try PVGuestBoot.dom0(on: host, config) } catch {
            throw CLIError("--dom0-mem, --ram: dom0 does not fit on this host: \(error)")
        }
        for line in dom0.xenLog { print("(XEN) \(line)") }
        for line in dom0.setup.log { print(line) }
        let p2m = dom0.domain.p2m
        let runs = p2m.runs(count: p2m.lastPfnHint.rawValue)
        print("P2M: \(runs.count) runs over \(p2m.lastPfnHint.rawValue) pfns (max_pfn \(p2m.lastPfnHint))")
        for r in runs.prefix(maxRuns) {
            print("  pfn \(Hex.plain(r.start))  \(String(r.count).leftPadded(8)) pages  \(describe(r.value))")
        }
        if runs.count > maxRuns { print("  … \(runs.count - maxRuns) more runs") }
    }

    private func describe(_ v: P2MRun) -> String {
        switch v {
        case .machine, .foreign: return "→ " + v.reportText
        case .identity: return "identity (1:1)"
        case .missing: return v.reportText
        }
    }
}

extension String {
    /// The string right-aligned in `width` columns.
    func leftPadded(_ width: Int) -> String {
        count >= width ? self : String(repeating: " ", count: width - count) + self
    }
}
