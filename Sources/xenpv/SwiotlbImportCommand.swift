import ArgumentParser
import SwiotlbCapture
import XenMemory

/// `xenpv swiotlb import`: the kernel's DMA tracepoint text as a v2 trace.
struct SwiotlbImportCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "import",
        abstract: "Turn dma:dma_map_page/dma_unmap_page/dma_map_sg/dma_unmap_sg (Linux 6.12+) and swiotlb:swiotlb_bounced tracepoint text into a trace.",
        discussion:
            "Reads tracefs 'trace' text or 'trace-cmd report' output. A map is a bounce when its DMA address lies in the pool given (the kernel's 'software IO TLB: mapped [mem <start>-…]' line and io_tlb_nslabs). What tracepoints cannot tell (the allocator's order, min_align, used counts, failed maps) is said in the trace's header; see docs/capture.md."
    )

    @Argument(help: "The tracepoint text, or - for standard input.", transform: FileArgument.name)
    var text: String

    @Option(help: "The pool's first byte (0x hex).")
    var start: String

    @Option(help: "The pool's slots (io_tlb_nslabs).")
    var nslabs: UInt64

    @Option(help: "The pool's areas ('software IO TLB: area num N.').")
    var areas: UInt64 = 1

    @Option(help: "Write the trace here (atomically; default: standard output).")
    var output: String?

    /// `--start` as a number (nil unless `0x` and 1 to 16 hex digits).
    private var startAddress: UInt64? { Hex.value(start[...]) }

    func validate() throws {
        guard let s = startAddress, s & 0xfff == 0 else {
            throw ValidationError("--start: expected a page-aligned 0x-hex address, got \(RefusalLine.quoted(start))")
        }
        guard (1...(1 << 25)).contains(nslabs) else { throw ValidationError("--nslabs must be 1 to 33554432") }
        guard (1...(1 << 18)).contains(areas) else { throw ValidationError("--areas must be 1 to 262144") }
    }

    func run() throws {
        if let output { try OutputFiles.check([OutputTarget(option: "--output", path: output)]) }
        let reader = try LineReader(path: text)
        var importer = TracepointImport(pool: .init(start: PhysicalAddress(startAddress ?? 0), nslabs: nslabs, areas: areas))
        let shown = text == "-" ? "<stdin>" : text
        while let bytes = reader.nextBytes() {
            do throws(CaptureError) { try importer.read(Substring(String(decoding: bytes, as: UTF8.self))) } catch {
                throw CLIError(error.report(file: shown))
            }
        }
        if let failure = reader.failure { throw failure }
        if let output {
            try OutputFiles.write([(OutputTarget(option: "--output", path: output), .lines({ importer.write(source: shown, emit: $0) }))])
        } else {
            var out = OutputBuffer()
            importer.write(source: shown) { out.append($0) }
            out.flush()
        }
        let c = importer.counts
        StandardError.write([
            "xenpv swiotlb import: \(c.maps) maps (\(c.bouncedOnly) from swiotlb_bounced), \(c.unmaps) unmaps; left out: \(c.direct) not bounced, \(c.unmatched) unmaps of no map seen, \(c.otherEvents) other events"
        ])
    }
}
