import ArgumentParser
import XenDumps
import XenLive
import XenMemory
import XenModel

/// Opens the live backend or stops with its one-line reason.
func liveBackend() throws -> LibXenBackend {
    do { return try LibXenBackend() } catch {
        StandardError.write(["xenpv: \(error.description)"])
        throw ExitCode(1)
    }
}

/// Runs `body`, turning a live error into its one-line message and exit status 1.
func live<T>(_ body: () throws(XenLiveError) -> T) throws -> T {
    do { return try body() } catch {
        StandardError.write(["xenpv: \(error.description)"])
        throw ExitCode(1)
    }
}

/// The options of the P2M reports: where the swiotlb line is, and the extra outputs.
struct ReportOptions: ParsableArguments {
    @Option(help: "A kernel log holding the 'software IO TLB: mapped [mem …]' line(s) (live dom0 default: /dev/kmsg).", transform: FileArgument.name)
    var dmesg: String?

    @Option(name: .customLong("json"), help: "Also write the summary as JSON.", transform: FileArgument.name)
    var jsonPath: String?

    @Option(name: .customLong("plot"), help: "Also write an SVG picture of the P2M.", transform: FileArgument.name)
    var plotPath: String?

    /// Refuses an output that cannot be written, before anything is read.
    func checkOutputs() throws {
        try OutputFiles.check(OutputTarget.given([("--json", jsonPath), ("--plot", plotPath)]))
    }
}

/// `xenpv host`.
struct HostCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "host",
        abstract: "Show this Xen host's figures: physinfo, the host E820, the M2P, free memory by address width (dom0, root)."
    )

    func run() throws {
        let b = try liveBackend()
        let s = try live { () throws(XenLiveError) in try HostSummary(b) }
        for l in s.lines { print(l) }
    }
}

/// `xenpv p2m <domid>`.
struct P2MCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "p2m",
        abstract: "Summarise a PV domain's P2M: contiguity runs, entry kinds, memory below 4 GiB, M2P round trip, swiotlb segments.",
        discussion: "For dom0 itself the P2M is read through its page tables (DOMID_SELF), or rebuilt from the M2P when that fails."
    )

    @Argument(help: "The domain id (0…32751).", transform: NumberArgument.domain)
    var domid: DomID

    @OptionGroup var output: ReportOptions

    func run() throws {
        try output.checkOutputs()
        let b = try liveBackend()
        let (p2m, source) = try live { () throws(XenLiveError) in try b.p2m(domain: domid) }
        let m2p = try live { () throws(XenLiveError) in try b.m2p() }
        let log = try KernelLogPools(dmesg: output.dmesg, dom0: domid == .dom0)
        try report(
            P2MSummary(p2m, source: source, m2p: m2p, pools: log.placed(in: p2m.size)), p2m: p2m, maxPage: m2p.maxPage.rawValue, json: output.jsonPath,
            plot: output.plotPath)
    }
}

/// The bounce pools named by a kernel log: `--dmesg FILE`, or for dom0 what /dev/kmsg holds
/// (when it cannot be read, a note says so and no pool is placed).
struct KernelLogPools {
    /// Where the log came from, for messages.
    let source: String
    /// The pools its `software IO TLB: mapped` lines name.
    let pools: [SwiotlbPoolLocation]

    /// Reads and checks the log's pool lines (a missing file or a bad line is an error naming it).
    init(dmesg path: String?, dom0: Bool) throws {
        let text: String
        if let path {
            source = path
            do { text = try TextFile.read(path, limit: .log) } catch { throw CLIError("\(error) (--dmesg)") }
        } else if dom0 {
            source = KernelMessages.path
            do { text = try KernelMessages.readAll(limit: InputLimit.log.bytes) } catch {
                StandardError.write(["note: \(error): the swiotlb pool is not placed (give --dmesg FILE)"])
                text = ""
            }
        } else {
            source = ""
            text = ""
        }
        do {
            pools = try SwiotlbPoolLocation.parse(kernelLog: text.split(omittingEmptySubsequences: false, whereSeparator: { $0.isNewline }))
        } catch {
            throw CLIError("\(source):\(error.line): \(error.message)")
        }
    }

    /// The pools, each of which must lie within a P2M of `size` entries.
    func placed(in size: UInt64) throws -> [SwiotlbPoolLocation] {
        do {
            for pool in pools { try pool.check(p2mSize: size) }
        } catch {
            throw CLIError("\(source):\(error.line): \(error.message)")
        }
        return pools
    }
}

/// Prints a P2M summary and writes its JSON and picture.
func report(_ s: P2MSummary, p2m: P2MDumpContents, maxPage: UInt64, json: String?, plot: String?) throws {
    for l in s.lines { print(l) }
    var outputs: [(OutputTarget, OutputContent)] = []
    if let json {
        outputs.append((OutputTarget(option: "--json", path: json), .text(s.json.rendered() + "\n")))
    }
    if let plot {
        outputs.append((OutputTarget(option: "--plot", path: plot), .text(s.plot(p2m, maxPage: maxPage))))
    }
    try OutputFiles.write(outputs)
}

/// `xenpv dump p2m|m2p`.
struct DumpCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "dump",
        abstract: "Write the live P2M or M2P in xen-mfndump's dump-p2m / dump-m2p format.",
        subcommands: [DumpP2M.self, DumpM2P.self]
    )

    struct DumpP2M: ParsableCommand {
        static let configuration = CommandConfiguration(
            commandName: "p2m", abstract: "Like `xen-mfndump dump-p2m <domid>` (which cannot read dom0 itself; this can).")
        @Argument(help: "The domain id (0…32751).", transform: NumberArgument.domain) var domid: DomID
        func run() throws {
            let b = try liveBackend()
            let (p2m, _) = try live { () throws(XenLiveError) in try b.p2m(domain: domid) }
            var out = OutputBuffer()
            P2MDump.write(p2m) { out.append($0) }
            out.flush()
        }
    }

    struct DumpM2P: ParsableCommand {
        static let configuration = CommandConfiguration(commandName: "m2p", abstract: "Like `xen-mfndump dump-m2p`.")
        func run() throws {
            let b = try liveBackend()
            let m2p = try live { () throws(XenLiveError) in try b.m2p() }
            var out = OutputBuffer()
            M2PDump.write(m2p) { out.append($0) }
            out.flush()
        }
    }
}

/// `xenpv import <file>...`.
struct ImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Read xen-mfndump dumps (dump-p2m, dump-m2p; gzip or xz too) and run the P2M analyses offline.",
        discussion: """
            The kind of each file is detected from its first line. Give one dump-m2p with a P2M for \
            the M2P round trip. --json and --plot report one domain: give them with one P2M dump.
            """
    )

    @Argument(help: "Dump files.", transform: FileArgument.name)
    var files: [String]

    @OptionGroup var output: ReportOptions

    func run() throws {
        try output.checkOutputs()
        // The kernel log first: a missing --dmesg is told before any dump is read.
        let log = try KernelLogPools(dmesg: output.dmesg, dom0: false)
        var p2ms: [(path: String, p2m: P2MDumpContents)] = []
        var m2p: (path: String, m2p: HostM2P)?
        for f in files {
            switch try DumpFile.read(f) {
            case .p2m(let p): p2ms.append((f, p))
            case .m2p(let m):
                // Two M2Ps cannot both be the host's: refuse rather than pick one.
                if let first = m2p { throw CLIError("\(f): a second dump-m2p (\(first.path) is one): give one M2P") }
                m2p = (f, m)
            }
        }
        // One JSON report and one picture hold one domain.
        if p2ms.count > 1, let option = output.jsonPath != nil ? "--json" : output.plotPath != nil ? "--plot" : nil {
            throw CLIError(
                "\(option): \(p2ms.count) P2M dumps given (\(p2ms[0].path), \(p2ms[1].path)), but one report holds one domain: import them one at a time")
        }
        // Every check before the first line of the report.
        let placed = try p2ms.map { try log.placed(in: $0.p2m.size) }
        for p in p2ms {
            if let frame = p.p2m.firstFrame(notBelow: MFN(PhysicalLimits.frames)) {
                throw CLIError(
                    "\(p.path): pfn \(frame.pfn) → mfn \(frame.mfn) is beyond x86-64's 2^40 machine frames (52-bit physical addresses)")
            }
        }
        if let m2p {
            for p in p2ms {
                if let frame = p.p2m.firstFrame(notBelow: m2p.m2p.maxPage) {
                    throw CLIError(
                        "\(p.path): pfn \(frame.pfn) → mfn \(frame.mfn) is not below the M2P's Max MFN \(m2p.m2p.maxPage.rawValue) (\(m2p.path)): the dumps are not of one host"
                    )
                }
            }
            for line in M2PDump.summaryLines(m2p.m2p) { print(line) }
        }
        for (p, pools) in zip(p2ms, placed) {
            try report(
                P2MSummary(p.p2m, source: .dump, m2p: m2p?.m2p, pools: pools), p2m: p.p2m, maxPage: m2p?.m2p.maxPage.rawValue ?? 0x100001,
                json: output.jsonPath, plot: output.plotPath)
        }
    }
}

/// Reading a dump file of any format.
enum DumpFile {
    /// Reads a dump of any kind, decompressing gzip and xz through the system's tools.
    static func read(_ path: String) throws -> DumpContents {
        let reader = try LineReader(path: path, decompress: true)
        let progress = LineProgress(label: path)
        var count = 0
        guard let head = reader.next() else { throw reader.failure ?? IOError(path, "empty file") }
        // The first line again, then the rest straight from the reader's buffer.
        let headBytes = UnsafeMutableBufferPointer<UInt8>.allocate(capacity: head.utf8.count)
        _ = headBytes.initialize(from: head.utf8)
        defer { headBytes.deallocate() }
        var pending = true
        let next: DumpLineSource = {
            if pending {
                pending = false
                return UnsafeBufferPointer(headBytes)
            }
            count += 1
            if count & 0xfffff == 0 { progress.update(count) }
            return reader.nextBytes()
        }
        /// A read error cuts the dump short: say so rather than what the reader made of it.
        func checkRead() throws {
            if let failure = reader.failure { throw failure }
        }
        guard let format = DumpFormat(firstLine: head) else {
            try checkRead()
            throw CLIError("\(path):1: not an xen-mfndump dump-p2m or dump-m2p (first line \(RefusalLine.quoted(String(head))))")
        }
        let contents: DumpContents
        do { contents = try format.read(lines: next) } catch {
            progress.finish()
            try checkRead()
            throw CLIError(error.line > 0 ? "\(path):\(error.line): \(error.message)" : "\(path): \(error.message)")
        }
        try checkRead()
        progress.finish()
        return contents
    }
}
