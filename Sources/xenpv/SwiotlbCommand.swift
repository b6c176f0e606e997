import ArgumentParser
import Swiotlb
import XenMemory

/// `xenpv swiotlb`: the software IO TLB on its own.
struct SwiotlbCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "swiotlb",
        abstract: "The Linux software IO TLB (v5.11 semantics, the RFC's two pools, Linux 6.1's areas).",
        subcommands: [SwiotlbReplayCommand.self, SwiotlbCmdlineCommand.self, SwiotlbCaptureCommand.self, SwiotlbImportCommand.self]
    )
}

/// `xenpv swiotlb replay <file>`.
struct SwiotlbReplayCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "replay",
        abstract: "Replay a DMA trace against a kernel's slot allocator; one result line per map/unmap.",
        discussion:
            "The format is documented in docs/trace-format.md. Kernel messages go to stderr. Exit status 1: a malformed trace; 3: a map Linux 6.1.192 would never return from; 4: where the kernel would BUG()."
    )

    @Argument(help: "The trace file, or - for standard input.", transform: FileArgument.name)
    var trace: String

    @Option(help: "Kernel semantics (a trace with two pools is always rfc-v1).")
    var kernel: SwiotlbKernel = .v5_11

    @Flag(help: "Move the bounced bytes through scratch memory, as the kernel's copies would.")
    var moveBytes = false

    @Flag(help: "End with 'bounced bytes=<N>': what the kernel's bounce copies move.")
    var countBytes = false

    @Flag(help: "Show every kernel message (by default the first 200, then their count).")
    var allMessages = false

    @Flag(help: "Compare with the live kernel's kernel_tlb= and kernel_used= (a capture): print '<N> maps, <S>/<N> … identical' and the first difference.")
    var check = false

    @Option(
        help: "v6.18: dynamic pools (CONFIG_SWIOTLB_DYNAMIC), new pools taken from this memory, lowest aligned block first (docs/trace-format.md).",
        transform: NumberArgument.addressRange)
    var growMemory: Range<UInt64>?

    @Option(
        help: "With --grow-memory: the highest byte of the pools the worker adds (phys_limit; default 0xffffffff).",
        transform: NumberArgument.address)
    var growLimit: UInt64 = 0xffff_ffff

    func run() throws {
        if check { return try runCheck() }
        let reader = try LineReader(path: trace)
        var replayer = TraceReplayer(kernel: kernel, movesBytes: moveBytes)
        if let growMemory {
            do throws(TraceError) { try replayer.growPools(from: Range(raw: growMemory), limit: PhysicalAddress(growLimit)) } catch {
                StandardError.write(["xenpv: --grow-memory: \(error.message): '\(error.token)'"])
                throw ExitCode(1)
            }
        }
        var results = ReplayOutput()
        var number = 0
        var messages = KernelMessageLimit(unlimited: allMessages)
        while let bytes = reader.nextBytes() {
            number += 1
            do throws(TraceError) {
                try replayer.feed(bytes: bytes, line: number, into: &results)
            } catch {
                write(&results)
                messages.write(replayer.takeMessages().map(\.description))
                messages.writeSummary()
                StandardError.write([error.report(file: trace == "-" ? "<stdin>" : trace)])
                throw ExitCode(error.exitStatus)
            }
            let lines = replayer.takeMessages()
            if !lines.isEmpty { write(&results); messages.write(lines.map(\.description)) }
            if results.count >= 1 << 16 { write(&results) }
        }
        write(&results)
        messages.writeSummary()
        if let failure = reader.failure { throw failure }
        var out = OutputBuffer()
        let closing: [String]
        do throws(TraceError) { closing = try replayer.finish() } catch {
            StandardError.write([error.report(file: trace == "-" ? "<stdin>" : trace)])
            throw ExitCode(1)
        }
        for l in closing { out.append(l) }
        if countBytes { out.append("bounced bytes=\(replayer.bytesBounced)") }
        out.flush()
    }

    /// Writes the result lines so far to standard output.
    private func write(_ results: inout ReplayOutput) {
        results.withBytes { writeAll(fd: 1, $0) }
        results.removeAll()
    }
}

/// `xenpv swiotlb cmdline <value>`: how a kernel reads `swiotlb=`.
struct SwiotlbCmdlineCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "cmdline",
        abstract: "Show how a kernel parses a swiotlb= value: slots, sizes and force mode."
    )

    @Argument(help: "The value after swiotlb=, e.g. 65536,force or 65536,1048576,force.")
    var value: String

    @Option(help: "Kernel semantics.")
    var kernel: SwiotlbKernel = .v5_11

    @Option(help: "num_possible_cpus(): the areas when swiotlb= gives none (kernels with areas).")
    var cpus: Int = 1

    func validate() throws {
        guard (1...4096).contains(cpus) else { throw ValidationError("--cpus: expected a CPU count in 1…4096, got '\(cpus)'") }
    }

    func run() throws {
        for line in SwiotlbCommandLine(parsing: value, kernel: kernel).report(kernel: kernel, cpus: cpus) { print(line) }
    }
}

/// `--kernel v5.11|rfc-v1|v6.1|v6.18`.
extension SwiotlbKernel: ExpressibleByArgument {}
