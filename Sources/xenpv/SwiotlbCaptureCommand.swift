import ArgumentParser
import SwiotlbCapture

#if canImport(Glibc)
    import Glibc
#endif

/// `xenpv swiotlb capture`: records a live kernel's bounce-buffer traffic as a v2 trace.
struct SwiotlbCaptureCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "capture",
        abstract: "Record this machine's swiotlb maps, unmaps and syncs (Linux 6.1, root) as a trace to replay.",
        discussion:
            "Defines kprobe events (group xenpv) and a tracefs instance, records until --seconds pass or SIGINT/SIGTERM, writes the trace, then removes every probe. See docs/capture.md."
    )

    @Option(help: "Stop after this many seconds (default: at Ctrl-C or SIGTERM).")
    var seconds: Int?

    @Option(help: "Write the trace here (atomically; default: standard output).")
    var output: String?

    @Option(help: "Keep only this device's operations (its used counts are then left out).")
    var device: String?

    @Option(name: .customLong("buffer-kb"), help: "Ring buffer per CPU, in KiB.")
    var bufferKB: Int = 65536

    @Option(help: "Also write the tracefs text as read, after the probe definitions as comments (held in memory: for bug reports and short captures).")
    var raw: String?

    func validate() throws {
        if let s = seconds, s < 1 || s > 86_400 { throw ValidationError("--seconds must be 1 to 86400, got \(s)") }
        guard (64...(4 << 20)).contains(bufferKB) else { throw ValidationError("--buffer-kb must be 64 to 4194304, got \(bufferKB)") }
        if let d = device, d.isEmpty || d.utf8.count > 64 { throw ValidationError("--device must be a name of 1 to 64 bytes") }
    }

    func run() throws {
        #if os(Linux)
            let targets = OutputTarget.given([("--output", output), ("--raw", raw)])
            try OutputFiles.check(targets)
            let bar = CaptureProgressLine()
            var gap: CaptureGap? = nil
            var rawLines: [String] = []
            do {
                try LiveCapture.run(
                    LiveCapture.Options(seconds: seconds, bufferKB: bufferKB), progress: bar.update,
                    raw: raw == nil ? nil : { rawLines.append(String($0)) }
                ) { recording in
                    bar.finish()
                    let writer = try CaptureTraceWriter(recording.pairing, context: recording.context, device: device)
                    var counts = CaptureTraceWriter.Counts()
                    var outputs: [(OutputTarget, OutputContent)] = []
                    if let raw {
                        let text = recording.definitions.map { "# kprobe_events: \($0)" } + rawLines
                        outputs.append((OutputTarget(option: "--raw", path: raw), .lines({ emit in text.forEach(emit) })))
                    }
                    if let output {
                        outputs.append((OutputTarget(option: "--output", path: output), .lines({ emit in counts = writer.write(emit: emit) })))
                        try OutputFiles.write(outputs)
                    } else {
                        try OutputFiles.write(outputs)
                        var out = OutputBuffer()
                        counts = writer.write { out.append($0) }
                        out.flush()
                    }
                    StandardError.write([
                        "xenpv swiotlb capture: \(counts.maps) maps (\(counts.failedMaps) failed), \(counts.unmaps) unmaps, \(counts.syncs) syncs from \(recording.events) probe hits; stopped \(recording.stoppedBy)"
                    ])
                    gap = CaptureGap.of(missed: recording.missed, lostEvents: recording.lostEvents)
                }
            } catch let e as CaptureError {
                bar.finish()
                throw CLIError("swiotlb capture: \(e.message)")
            }
            if let gap {
                let hint = if case .lostEvents = gap { "; give a larger --buffer-kb (now \(bufferKB))" } else { "" }
                throw CLIError("swiotlb capture: \(gap)\(hint)")
            }
        #else
            throw CLIError("swiotlb capture: runs on Linux only (tracefs and kprobe events)")
        #endif
    }
}

#if os(Linux)
    /// `capture: <events> events, <live> maps live, <rate>/s, <missed> missed` on standard error,
    /// on a terminal only.
    final class CaptureProgressLine {
        private var shown = false
        private let enabled = isatty(2) != 0

        /// Shows `p`.
        func update(_ p: LiveCapture.Progress) {
            guard enabled else { return }
            shown = true
            let rate = p.seconds > 0 ? Int(Double(p.events) / p.seconds) : 0
            writeAll(fd: 2, "\rcapture: \(p.events) events, \(p.mapsLive) maps live, \(rate)/s, \(p.missed) missed   ")
        }

        /// Clears the line.
        func finish() {
            if shown { writeAll(fd: 2, "\r" + String(repeating: " ", count: 72) + "\r"); shown = false }
        }
    }
#endif
