import ArgumentParser
#if canImport(Glibc)
import Glibc
#endif
import XenDumps
import XenMemory
import XenModel

/// `xenpv scenario …`: scenarios written from real hosts.
struct ScenarioCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "scenario",
        abstract: "Write the scenario of a real host.",
        subcommands: [ScenarioFromCaptureCommand.self]
    )
}

/// `xenpv scenario from-capture <folder> [--output <file>]`.
struct ScenarioFromCaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "from-capture",
        abstract: "Write the scenario of the host a capture folder was taken on.",
        discussion: """
        The folder is laid out as shared/fixtures/real-xen-default: serial.log (or xl-dmesg.txt) \
        for Xen's boot log, dom0-dmesg.txt for dom0's kernel log, and dom0-p2m.txt or \
        dump-p2m.txt (also .xz or .gz) for dom0's P2M, whose page right after the initrd is the \
        kernel module's first frame (Xen gives the module back just before it takes that page). \
        Other files are ignored. The scenario names the Xen build, whose own boot allocations the \
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
        do {
            evidence = try HostLogEvidence(xenLog: xenLog, kernelLog: try lines(kernelFile))
        } catch let error as HostLogError {
            throw CLIError("\(error.log == .xen ? xenFile : kernelFile):\(error.line): \(error.message)")
        }
        var placement = HostScenarioWriter.Placement()
        if let rd = evidence.initrd, let mapping = evidence.initialMapping {
            guard let f = found[.p2m] else { throw CLIError("\(folder): no dom0-p2m.txt or dump-p2m.txt (dom0's P2M, which places the kernel module)") }
            guard case .p2m(let p) = try DumpFile.read(f) else { throw CLIError("\(f): a dump-m2p, where its name says dom0's P2M") }
            let pfn = (UInt64(1) << UInt64(BitMath.pageOrder(bytes: mapping))) + UInt64(rd.count)
            guard case .machine(let m)? = p.entries.run(from: pfn)?.value, m < rd.lowerBound else {
                throw CLIError("\(f): pfn \(Hex.plain(pfn)), the page after the initrd, is not a frame below the initrd (\(Hex.plain(rd.lowerBound))): not this host's dom0?")
            }
            placement.kernelModuleStart = m
        }
        let name = "the host captured in \(folder.split(separator: "/").last.map(String.init) ?? folder)"
        let text: String
        do { text = try HostScenarioWriter.yaml(name: name, evidence: evidence, placement: placement) } catch {
            throw CLIError("\(folder): \(error.description)")
        }
        if targets.isEmpty { print(text, terminator: "") } else { try OutputFiles.write(targets.map { ($0, .text(text)) }) }
    }

    private func lines(_ path: String) throws -> [Substring] {
        try TextFile.read(path, limit: .log).split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline })
    }
}
