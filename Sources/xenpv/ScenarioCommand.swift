import ArgumentParser
import XenDumps
import XenLive
import XenMemory
import XenModel

#if canImport(Glibc)
    import Glibc
#endif

/// `xenpv scenario …`: scenarios written from real hosts.
struct ScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Write the scenario of a real host.",
        subcommands: [ScenarioFromCaptureCommand.self, ScenarioFromHostCommand.self]
    )
}

/// `xenpv scenario from-capture <folder> [--output <file>]`.
struct ScenarioFromCaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-capture",
        abstract: "Write the scenario of the host a capture folder was taken on.",
        discussion: """
            The folder is laid out as shared/fixtures/real-xen-default: serial.log (or xl-dmesg.txt) \
            for Xen's boot log, dom0-dmesg.txt for dom0's kernel log, and for the kernel module's \
            place dom0's kernel image (vmlinuz or bzImage: Xen 4.17 moves it, with room for its \
            decompressed kernel, directly below the initrd) or dom0-p2m.txt or dump-p2m.txt (also \
            .xz or .gz): the module then starts at the frame near the P2M's page right after the \
            initrd whose modelled Xen boot and dom0 build put there the frames the P2M holds; the \
            image wins when both are there. Blocks of 2 to 8 pages \
            that xen-swiotlb exchanged inside a machine-contiguous run of that P2M are the \
            coherent allocations a virtio device's driver made at probe (its rings), written as \
            the boot_coherent of the device dom0-dmesg.txt and iomem.txt name. Other files are \
            ignored. The scenario names the Xen build, whose own boot allocations the \
            model derives: it holds no boot_regions or heap_inventory.
            """
    )

    @Argument(help: "The capture folder.", transform: FileArgument.name)
    var folder: String

    @Option(name: .customLong("output"), help: "Write the scenario to this file instead of standard output.", transform: FileArgument.name)
    var outputPath: String?

    func run() throws {
        let targets = OutputTarget.given([("--output", outputPath)])
        try OutputFiles.check(targets)
        var status = stat()
        guard stat(folder, &status) == 0 else { throw CLIError("\(folder): \(String(cString: strerror(errno)))") }
        guard status.st_mode & S_IFMT == S_IFDIR else { throw CLIError("\(folder): not a folder (give the capture folder)") }
        let found = try CaptureFiles([folder])
        let xenLog: [Substring]
        let xenFile: String
        if let f = found[.serialLog] {
            xenLog = try lines(f).filter { $0.hasPrefix("(XEN)") }
            xenFile = f
        } else if let f = found[.xlDmesg] {
            xenLog = try lines(f)
            xenFile = f
        } else {
            throw CLIError("\(folder): no serial.log or xl-dmesg.txt (Xen's boot log)")
        }
        guard let kernelFile = found[.kernelLog] else { throw CLIError("\(folder): no dom0-dmesg.txt (dom0's kernel log)") }
        let evidence: HostLogEvidence
        let kernelLog = try lines(kernelFile)
        do throws(HostLogError) {
            evidence = try HostLogEvidence(xenLog: xenLog, kernelLog: kernelLog)
        } catch {
            throw CLIError("\(error.log == .xen ? xenFile : kernelFile):\(error.line): \(error.message)")
        }
        let p2m = try found[.p2m].map(readP2M)
        var placement = HostScenarioWriter.Placement()
        if let rd = evidence.initrd {
            placement.kernelModuleStart = try KernelModulePlacement.start(
                image: try kernelImage(), p2mStart: { try evidence.initialMapping == nil ? nil : moduleStartFromP2M(p2m, found, evidence) },
                initrd: rd, e820: HostE820(evidence.e820))
        }
        placement.devices = try BootCoherentDevices.read(folder: folder, kernelLog: kernelLog, p2m: p2m?.entries)
        let name = "the host captured in \(folder.split(separator: "/").last.map(String.init) ?? folder)"
        let text: String
        do { text = try HostScenarioWriter.yaml(name: name, evidence: evidence, placement: placement) } catch {
            throw CLIError("\(folder): \(error.description)")
        }
        if targets.isEmpty { print(text, terminator: "") } else { try OutputFiles.write(targets.map { ($0, .text(text)) }) }
    }

    /// Dom0's kernel image in the folder (``KernelImageFile/names``), when there is one.
    private func kernelImage() throws -> (String, BzImage)? {
        for name in KernelImageFile.names {
            let path = folder + "/" + name
            if access(path, F_OK) == 0 { return (path, try KernelImageFile.read(path)) }
        }
        return nil
    }

    /// The kernel module's first frame as dom0's P2M shows it (``HostScenarioWriter/kernelModuleStart(evidence:p2m:)``),
    /// for a folder without the kernel image: a folder without a P2M either is an error.
    private func moduleStartFromP2M(_ p2m: P2MDumpContents?, _ found: CaptureFiles, _ evidence: HostLogEvidence) throws -> MFN? {
        guard let rd = evidence.initrd else { return nil }
        guard let p2m, let f = found[.p2m] else {
            throw CLIError(
                "\(folder): no \(KernelImageFile.names.joined(separator: " or ")), dom0-p2m.txt or dump-p2m.txt (dom0's kernel image or P2M, which place the kernel module)"
            )
        }
        guard let start = HostScenarioWriter.kernelModuleStart(evidence: evidence, p2m: p2m.entries) else {
            throw CLIError("\(f): the page after the initrd is not a frame below the initrd (\(rd.lowerBound)): not this host's dom0?")
        }
        return start
    }

    /// Dom0's P2M from the folder's file of that kind.
    private func readP2M(_ f: String) throws -> P2MDumpContents {
        guard case .p2m(let p) = try DumpFile.read(f) else { throw CLIError("\(f): a dump-m2p, where its name says dom0's P2M") }
        return p
    }

    private func lines(_ path: String) throws -> [Substring] {
        try TextFile.read(path, limit: .log).split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
    }
}

/// `xenpv scenario from-host [--output <file>]`: inside a dom0.
struct ScenarioFromHostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-host",
        abstract: "Write the scenario of the host this dom0 runs on (root; built with the XenCtrl trait).",
        discussion: """
            Reads the machine E820 (XENMEM_machine_memory_map), Xen's version, build id and command \
            line (xc_version), dom0's own P2M, the kernel log (/dev/kmsg: Linux version, Command line, \
            RAMDISK, smpboot, software IO TLB lines) and the PCI devices' dma_mask_bits in sysfs. The \
            initrd's frames are dom0's P2M at its RAMDISK pfns. The kernel module ends where the \
            initrd starts and is sized from the running kernel's image, /boot/vmlinuz-<release>, as \
            from-capture does; without that file it starts at the frame near the page dom0's P2M holds \
            right after the initrd whose modelled Xen boot and dom0 build put there the frames the \
            P2M holds. Blocks xen-swiotlb exchanged inside machine-contiguous runs of the P2M are \
            the boot_coherent of the PCI device sysfs puts above the log's virtio_blk device. Anywhere but \
            a Xen dom0 it stops with one line saying so.
            """
    )

    @Option(name: .customLong("output"), help: "Write the scenario to this file instead of standard output.", transform: FileArgument.name)
    var outputPath: String?

    func run() throws {
        let targets = OutputTarget.given([("--output", outputPath)])
        try OutputFiles.check(targets)
        let backend = try liveBackend()
        let identity = try live { () throws(XenLiveError) in try backend.hypervisorIdentity() }
        let map = try live { () throws(XenLiveError) in try backend.machineMemoryMap() }
        let p2m = try live { () throws(XenLiveError) in try backend.p2m(domain: 0).0 }
        let text: String
        do { text = try KernelMessages.readAll(limit: InputLimit.log.bytes) } catch { throw CLIError(error.description) }
        let kernelLog = text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
        let evidence: HostLogEvidence
        do throws(HostLogError) {
            evidence = try HostLogEvidence(
                machineMemoryMap: map, xenVersion: identity.version, buildID: identity.buildID,
                xenCommandLine: identity.commandLine, kernelLog: kernelLog, p2m: p2m.entries)
        } catch {
            throw CLIError("\(KernelMessages.path):\(error.line): \(error.message)")
        }
        let pciDevices = try PCIDevices.dmaWidths().map { DeviceSpec(name: $0.name, dma: .pci($0.name, bits: $0.dmaBits)) }
        var placement = HostScenarioWriter.Placement(devices: BootCoherentDevices.live(devices: pciDevices, kernelLog: kernelLog, p2m: p2m.entries))
        if let rd = evidence.initrd {
            placement.kernelModuleStart = try KernelModulePlacement.start(
                image: try Self.runningKernelImage(), p2mStart: { HostScenarioWriter.kernelModuleStart(evidence: evidence, p2m: p2m.entries) },
                initrd: rd, e820: HostE820(evidence.e820))
        }
        let scenario: String
        do { scenario = try HostScenarioWriter.yaml(name: "this host (xen \(identity.version))", evidence: evidence, placement: placement) } catch {
            throw CLIError("this host: \(error.description)")
        }
        if targets.isEmpty { print(scenario, terminator: "") } else { try OutputFiles.write(targets.map { ($0, .text(scenario)) }) }
    }

    /// The running kernel's image, `/boot/vmlinuz-<release>`, when it is there.
    static func runningKernelImage() throws -> (String, BzImage)? {
        var u = utsname()
        guard uname(&u) == 0 else { return nil }
        let release = withUnsafeBytes(of: &u.release) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
        let path = "/boot/vmlinuz-" + release
        guard !release.isEmpty, access(path, F_OK) == 0 else { return nil }
        return (path, try KernelImageFile.read(path))
    }
}

/// The PCI devices sysfs shows, with their DMA mask widths.
enum PCIDevices {
    static let folder = "/sys/bus/pci/devices"

    /// `(dev_name, dma_mask_bits)` of every device that has the attribute, by name; none when
    /// sysfs has no PCI bus. A value that is not a width 1…64 is an error naming the file.
    static func dmaWidths() throws -> [(name: String, dmaBits: Int)] {
        guard access(folder, R_OK) == 0 else { return [] }
        var names: [String] = []
        try Directory.forEachName(folder) { names.append($0) }
        var out: [(name: String, dmaBits: Int)] = []
        for name in names.sorted() {
            let path = folder + "/" + name + "/dma_mask_bits"
            guard access(path, R_OK) == 0 else { continue }
            let text = try TextFile.read(path, limit: .sysfsValue)
            let value = text.split(whereSeparator: { $0.isWhitespace }).first.map(String.init) ?? ""
            guard let bits = Int(value), (1...64).contains(bits) else { throw CLIError("\(path): expected a width 1…64, got \(RefusalLine.quoted(value))") }
            out.append((name, bits))
        }
        return out
    }
}
