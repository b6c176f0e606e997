#if os(Linux)
    import Glibc
    import XenMemory

    /// Records a running Linux 6.1 kernel's swiotlb traffic through kprobe events in tracefs (as
    /// root, reading the kernel's data only) and hands back the operations in the allocator's order.
    ///
    /// The probes live in their own event group (`xenpv`) and are recorded into their own tracefs
    /// instance (`instances/xenpv`, clock `counter`), so the global tracer is left as it was. They
    /// are always removed: on return, on error, and on SIGINT, SIGTERM or SIGHUP (held while a
    /// capture runs and polled). A group or instance already there means a second capture, or one
    /// that was killed: it is named and nothing is touched.
    public struct LiveCapture {
        /// What to record.
        public struct Options: Sendable {
            /// Stop after this many seconds (nil: at SIGINT or SIGTERM).
            public var seconds: Int?
            /// Ring buffer per CPU, in KiB.
            public var bufferKB: Int
            /// Where tracefs is (found when nil).
            public var tracefs: String?

            /// Options.
            public init(seconds: Int? = nil, bufferKB: Int = 65536, tracefs: String? = nil) {
                self.seconds = seconds; self.bufferKB = bufferKB; self.tracefs = tracefs
            }
        }

        /// How far a running capture is, for a progress line.
        public struct Progress: Sendable {
            /// Probe hits read so far.
            public var events: Int
            /// Maps entered minus unmaps entered so far.
            public var mapsLive: Int
            /// Seconds since recording began.
            public var seconds: Double
            /// Probe hits the kernel missed so far.
            public var missed: UInt64
        }

        /// What was recorded.
        public struct Recording: Sendable {
            /// The hits, paired.
            public var pairing: CapturePairing
            /// Where and how.
            public var context: CaptureContext
            /// Probe hits the kernel missed (from `kprobe_profile`), per event.
            public var missed: [(event: String, count: UInt64)]
            /// Events the ring buffer lost.
            public var lostEvents: UInt64
            /// Why recording stopped (`after N s`, `SIGINT`, …).
            public var stoppedBy: String
            /// Events read.
            public var events: Int
            /// The `kprobe_events` lines the capture defined.
            public var definitions: [String]
        }

        /// The signals that stop a capture.
        static let stopSignals: [Int32] = [SIGINT, SIGTERM, SIGHUP]

        /// Arms, records until `options.seconds` pass or a stop signal comes, stops recording,
        /// calls `save` with what was recorded, then disarms (whatever `save` does). Errors before
        /// recording (not root, no tracefs, …) leave nothing behind.
        /// `raw`, when given, gets every line of tracefs text as it is read.
        public static func run(
            _ options: Options, progress: (Progress) -> Void, raw: ((Substring) -> Void)? = nil,
            save: (Recording) throws -> Void
        ) throws {
            let (tracefs, plan) = try preflight(options)
            let context0 = try startContext()

            // Armed from here on: everything below is undone by `disarm`.
            var armed = Armed(tracefs: tracefs)
            var blocked = sigset_t(), previous = sigset_t()
            sigemptyset(&blocked)
            for s in stopSignals { sigaddset(&blocked, s) }
            pthread_sigmask(SIG_BLOCK, &blocked, &previous)
            defer {
                armed.disarm()
                var zero = timespec(), info = siginfo_t()
                while sigtimedwait(&blocked, &info, &zero) > 0 {}  // a second Ctrl-C during the save ends nothing half done
                pthread_sigmask(SIG_SETMASK, &previous, nil)
            }
            try armed.arm(plan, bufferKB: options.bufferKB)
            var text = TracefsText()
            let pipe = open(armed.instance + "/trace_pipe", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard pipe >= 0 else { throw CaptureError("cannot open \(armed.instance)/trace_pipe: \(String(cString: strerror(errno)))") }
            defer { close(pipe) }
            var reader = PipeLines()
            let stoppedBy = try record(
                pipe, &reader, into: &text, until: options.seconds, orSignalIn: &blocked, tracefs: tracefs, plan: plan, progress: progress,
                raw: raw)
            // Stop recording (no code is patched), then read what is left. A refused stop is
            // not a failure of the capture: disarm removes the instance, probes and all.
            try? KernelFiles.write(armed.instance + "/tracing_on", "0")
            _ = try reader.drain(pipe) { line throws(CaptureError) in
                raw?(line); try text.read(line)
            }
            try reader.finish { line throws(CaptureError) in
                raw?(line); try text.read(line)
            }
            let profile = try KernelFiles.text(tracefs + "/kprobe_profile") ?? ""
            let (probes, missed) = profileLines(profile, events: Set(plan.eventNames))
            var context = context0
            context.probes = probes + ["buffer \(options.bufferKB) KiB per CPU; lost events \(text.lostEvents)"]
            context.debugfsEnd = debugfs()
            try save(
                Recording(
                    pairing: CapturePairing(events: text.events), context: context, missed: missed,
                    lostEvents: text.lostEvents, stoppedBy: stoppedBy, events: text.events.count,
                    definitions: plan.definitions))
        }

        /// The checks before anything is armed: root, tracefs with kprobe events, no capture's
        /// leftovers, the struct offsets from BTF and the call sites; the tracefs folder and the
        /// probes to define.
        static func preflight(_ options: Options) throws -> (tracefs: String, plan: KprobePlan) {
            guard geteuid() == 0 else { throw CaptureError("needs root: it defines kprobe events in tracefs") }
            let tracefs = try options.tracefs ?? findTracefs()
            let kprobeEvents = tracefs + "/kprobe_events"
            guard KernelFiles.exists(kprobeEvents) else {
                throw CaptureError("\(kprobeEvents) does not exist: this kernel has no kprobe events (CONFIG_KPROBE_EVENTS)")
            }
            try refuseLeftovers(tracefs: tracefs)
            guard let btfBytes = try KernelFiles.read("/sys/kernel/btf/vmlinux", limit: BTFLayout.maxBytes) else {
                throw CaptureError("no type information for the struct offsets: /sys/kernel/btf/vmlinux is missing (CONFIG_DEBUG_INFO_BTF)")
            }
            let offsets: KprobePlan.Offsets
            do { offsets = try KprobePlan.Offsets(btf: BTFLayout(bytes: btfBytes, structs: KprobePlan.Offsets.structs)) } catch {
                throw CaptureError("/sys/kernel/btf/vmlinux: \(error.message)")
            }
            return (tracefs, KprobePlan(offsets: offsets, sites: try findSites()))
        }

        /// Reads `pipe` into `text` until `seconds` pass or a signal of `blocked` comes, with
        /// progress about once a second; what stopped it.
        static func record(
            _ pipe: Int32, _ reader: inout PipeLines, into text: inout TracefsText, until seconds: Int?, orSignalIn blocked: inout sigset_t,
            tracefs: String, plan: KprobePlan, progress: (Progress) -> Void, raw: ((Substring) -> Void)?
        ) throws -> String {
            let start = now()
            var lastProgress = 0.0
            var live = 0
            while true {
                var zero = timespec(), info = siginfo_t()
                let sig = sigtimedwait(&blocked, &info, &zero)
                if sig > 0 { return String(cString: strsignal(sig)) }
                if let s = seconds, now() - start >= Double(s) { return "after \(s) s" }
                let before = text.events.count
                let got = try reader.drain(pipe) { line throws(CaptureError) in
                    raw?(line); try text.read(line)
                }
                for e in text.events[before...] { if e.kind == .map { live += 1 } else if e.kind == .unmap { live -= 1 } }
                if now() - lastProgress >= 1 {
                    lastProgress = now()
                    // The progress line only: the missed hits that count are read after the run.
                    let missed = profileLines((try? KernelFiles.text(tracefs + "/kprobe_profile")) ?? "", events: Set(plan.eventNames)).1
                    progress(Progress(events: text.events.count, mapsLive: live, seconds: lastProgress - start, missed: missed.reduce(0) { $0 + $1.count }))
                }
                if !got { usleep(20_000) }
            }
        }

        /// `/sys/kernel/tracing`, else `/sys/kernel/debug/tracing`: the first with a `trace` file.
        static func findTracefs() throws(CaptureError) -> String {
            for p in ["/sys/kernel/tracing", "/sys/kernel/debug/tracing"] where KernelFiles.exists(p + "/trace") { return p }
            throw CaptureError("no tracefs: mount it (mount -t tracefs nodev /sys/kernel/tracing)")
        }

        /// Refuses to start when the group or the instance is already there, naming what is.
        static func refuseLeftovers(tracefs: String) throws(CaptureError) {
            let defined = (try KernelFiles.text(tracefs + "/kprobe_events") ?? "").split(separator: "\n")
                .compactMap { line -> String? in
                    let head = line.split(separator: " ", maxSplits: 1).first ?? ""
                    guard let colon = head.firstIndex(of: ":") else { return nil }
                    let name = head[head.index(after: colon)...]
                    return name.hasPrefix(KprobePlan.group + "/") ? String(name) : nil
                }
            let instance = KernelFiles.exists(tracefs + "/instances/" + KprobePlan.group)
            guard defined.isEmpty && !instance else {
                var what: [String] = [], undo: [String] = []
                let dir = tracefs + "/instances/" + KprobePlan.group
                if instance {
                    what.append("tracefs instance instances/\(KprobePlan.group)")
                    undo += ["echo 0 > \(dir)/events/\(KprobePlan.group)/enable", "rmdir \(dir)"]
                }
                if !defined.isEmpty {
                    what.append("kprobe events \(defined.joined(separator: ", "))")
                    undo += defined.map { "echo '-:\($0)' >> \(tracefs)/kprobe_events" }
                }
                throw CaptureError(
                    "another capture is running, or a killed one left \(what.joined(separator: " and ")); if none runs, remove them: \(undo.joined(separator: "; "))"
                )
            }
        }

        /// The probe points in the running kernel's code.
        static func findSites() throws(CaptureError) -> KprobePlan.Sites {
            let code = try KernelCode(names: [
                KprobePlan.mapFunction, KprobePlan.unmapFunction, KprobePlan.syncForDevice, KprobePlan.syncForCPU,
                KprobePlan.unlockFunction, KprobePlan.bounceFunction,
            ])
            let unlock = try code.symbol(KprobePlan.unlockFunction).address, bounce = try code.symbol(KprobePlan.bounceFunction).address
            _ = try code.symbol(KprobePlan.syncForDevice); _ = try code.symbol(KprobePlan.syncForCPU)
            let map = try code.symbol(KprobePlan.mapFunction), unmap = try code.symbol(KprobePlan.unmapFunction)
            let mapBytes = try KernelCode.bytes(of: map, name: KprobePlan.mapFunction)
            let unmapBytes = try KernelCode.bytes(of: unmap, name: KprobePlan.unmapFunction)
            let mapUnlocks = CallSites.find(in: mapBytes, at: map.address, to: unlock)
            let bounces = CallSites.find(in: mapBytes, at: map.address, to: bounce)
            let unmapUnlocks = CallSites.find(in: unmapBytes, at: unmap.address, to: unlock)
            func none(_ f: String, _ g: String) -> CaptureError {
                CaptureError("symbol \(f) is not probeable here: its code has no call to \(g) (compiled differently in this kernel)")
            }
            guard !mapUnlocks.isEmpty else { throw none(KprobePlan.mapFunction, KprobePlan.unlockFunction) }
            guard bounces.count == 1 else {
                throw bounces.isEmpty
                    ? none(KprobePlan.mapFunction, KprobePlan.bounceFunction)
                    : CaptureError(
                        "symbol \(KprobePlan.mapFunction) is not probeable here: \(bounces.count) calls to \(KprobePlan.bounceFunction), one expected")
            }
            guard !unmapUnlocks.isEmpty else { throw none(KprobePlan.unmapFunction, KprobePlan.unlockFunction) }
            return KprobePlan.Sites(mapUnlocks: mapUnlocks, mapBounce: bounces[0], unmapUnlocks: unmapUnlocks)
        }

        /// uname, the command line, the clock and debugfs before arming.
        static func startContext() throws(CaptureError) -> CaptureContext {
            var u = utsname()
            uname(&u)
            func field<T>(_ v: inout T) -> String { withUnsafeBytes(of: &v) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) } }
            let name = [field(&u.sysname), field(&u.release), field(&u.version), field(&u.machine)].joined(separator: " ")
            let cmdline = (try KernelFiles.text("/proc/cmdline", limit: 1 << 16) ?? "").trimmingNewlines()
            return CaptureContext(
                uname: name, commandLine: cmdline, clock: "counter", probes: [], debugfsStart: debugfs(), debugfsEnd: "",
                kernelLines: kernelLogLines())
        }

        /// `io_tlb_nslabs=… io_tlb_used=…` from swiotlb's debugfs folder (or why not).
        static func debugfs() -> String {
            let dir = SwiotlbKernelText.debugfsFolder
            let values = [SwiotlbKernelText.nslabsFile, SwiotlbKernelText.usedFile].compactMap { f -> String? in
                // A file that does not read is left out: the header says which values it holds.
                guard let t = (try? KernelFiles.text(dir + f, limit: 4096)) ?? nil else { return nil }
                return "\(f)=\(t.trimmingNewlines())"
            }
            return values.isEmpty ? "(\(dir) not readable: debugfs not mounted?)" : values.joined(separator: " ")
        }

        /// The kernel log's `software IO TLB:` lines (area num, mapped [mem …]), from /dev/kmsg.
        static func kernelLogLines() -> [String] {
            let fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC)
            guard fd >= 0 else { return [] }
            defer { close(fd) }
            var out: [String] = []
            var record = [UInt8](repeating: 0, count: 8192)
            for _ in 0..<100_000 {
                let n = record.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 { if errno == EPIPE { continue }; break }
                if n == 0 { break }
                let text = String(decoding: record[0..<n], as: UTF8.self)
                guard let semi = text.firstIndex(of: ";") else { continue }
                let message = text[text.index(after: semi)...].prefix { $0 != "\n" }
                if message.hasPrefix(SwiotlbKernelText.messagePrefix) && out.count < 16 { out.append(String(message.prefix(200))) }
            }
            return out
        }

        /// `kprobe_profile`'s lines for `events`: `<event> hits=<n> missed=<m>` each, and the misses.
        static func profileLines(_ profile: String, events: Set<String>) -> ([String], [(event: String, count: UInt64)]) {
            var lines: [String] = [], missed: [(event: String, count: UInt64)] = []
            for l in profile.split(separator: "\n") {
                let f = l.split(separator: " ")
                guard f.count == 3, events.contains(String(f[0])), let hits = UInt64(f[1]), let miss = UInt64(f[2]) else { continue }
                lines.append("\(f[0]) hits=\(hits) missed=\(miss)")
                if miss > 0 { missed.append((String(f[0]), miss)) }
            }
            return (lines, missed)
        }

        static func now() -> Double {
            var ts = timespec()
            clock_gettime(CLOCK_MONOTONIC, &ts)
            return Double(ts.tv_sec) + Double(ts.tv_nsec) / 1e9
        }
    }

    /// The state a capture changes, and its undoing.
    struct Armed {
        let tracefs: String
        var instance: String { tracefs + "/instances/" + KprobePlan.group }
        private var events: [String] = []
        private var madeInstance = false
        private var optimisation: String? = nil

        init(tracefs: String) { self.tracefs = tracefs }

        /// Turns kprobe jump optimisation off (remembering it), makes the instance, defines and
        /// enables the probes, and starts recording.
        mutating func arm(_ plan: KprobePlan, bufferKB: Int) throws(CaptureError) {
            let knob = "/proc/sys/debug/kprobes-optimization"
            if let old = try KernelFiles.text(knob, limit: 64)?.trimmingNewlines(), old != "0" {
                try KernelFiles.write(knob, "0")
                optimisation = old
            }
            guard mkdir(instance, 0o700) == 0 else { throw CaptureError("cannot make the tracefs instance \(instance): \(String(cString: strerror(errno)))") }
            madeInstance = true
            try KernelFiles.write(instance + "/tracing_on", "0")
            do { try KernelFiles.write(instance + "/trace_clock", "counter") } catch {
                throw CaptureError("this kernel has no 'counter' trace clock (\(instance)/trace_clock): \(error.message)")
            }
            try KernelFiles.write(instance + "/buffer_size_kb", String(bufferKB))
            for (definition, name) in zip(plan.definitions, plan.eventNames) {
                do { try KernelFiles.write(tracefs + "/kprobe_events", definition, append: true) } catch {
                    // The kernel's own reason when error_log has one; else the write's error alone.
                    let log =
                        ((try? KernelFiles.text(tracefs + "/error_log", limit: 1 << 16)) ?? nil)?.split(separator: "\n").suffix(2).joined(separator: " | ")
                        ?? ""
                    throw CaptureError("\(error.message)\(log.isEmpty ? "" : " (error_log: \(log.prefix(300)))")")
                }
                events.append(name)
            }
            try checkBreakpointProbes()
            try KernelFiles.write(instance + "/events/\(KprobePlan.group)/enable", "1")
            try KernelFiles.write(instance + "/tracing_on", "1")
        }

        /// Refuses probes the kernel put on ftrace or optimised into jumps (debugfs
        /// `kprobes/list` marks them `[FTRACE]` or `[OPTIMIZED]`): those miss hits from interrupts.
        private func checkBreakpointProbes() throws(CaptureError) {
            guard let list = try KernelFiles.text("/sys/kernel/debug/kprobes/list", limit: 4 << 20) else { return }
            for line in list.split(separator: "\n") where line.contains("[FTRACE]") || line.contains("[OPTIMIZED]") {
                if line.contains(KprobePlan.mapFunction) || line.contains(KprobePlan.unmapFunction) || line.contains("swiotlb_sync_single") {
                    throw CaptureError("the kernel made a capture probe an ftrace or jump probe, which misses hits from interrupts: \(line.prefix(160))")
                }
            }
        }

        /// Undoes what `arm` did, in reverse, ignoring what was never done. Each step is tried
        /// whatever the one before gave (`try?`): a teardown that stopped at the first refusal
        /// would leave probes behind.
        mutating func disarm() {
            if madeInstance {
                try? KernelFiles.write(instance + "/tracing_on", "0")
                try? KernelFiles.write(instance + "/events/\(KprobePlan.group)/enable", "0")
                rmdir(instance)
                madeInstance = false
            }
            for name in events.reversed() { try? KernelFiles.write(tracefs + "/kprobe_events", "-:\(KprobePlan.group)/\(name)", append: true) }
            events = []
            if let old = optimisation { try? KernelFiles.write("/proc/sys/debug/kprobes-optimization", old); optimisation = nil }
        }
    }

    /// Lines from a non-blocking pipe, with a bound on a line's length.
    struct PipeLines {
        private var pending: [UInt8] = []
        private var buffer = [UInt8](repeating: 0, count: 1 << 16)

        /// Reads what the pipe holds now and hands each complete line on; true when something came.
        mutating func drain(_ fd: Int32, _ line: (Substring) throws(CaptureError) -> Void) throws(CaptureError) -> Bool {
            var got = false
            while true {
                let n = buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) }
                if n < 0 {
                    if errno == EINTR { continue }; if errno == EAGAIN { return got };
                    throw CaptureError("reading trace_pipe: \(String(cString: strerror(errno)))")
                }
                if n == 0 { return got }
                got = true
                var start = 0
                for i in 0..<n where buffer[i] == 0x0a {
                    pending += buffer[start..<i]
                    try line(Substring(String(decoding: pending, as: UTF8.self)))
                    pending.removeAll(keepingCapacity: true)
                    start = i + 1
                }
                pending += buffer[start..<n]
                guard pending.count <= TracefsText.maxLineBytes else { throw CaptureError("trace_pipe: a line longer than \(TracefsText.maxLineBytes) bytes") }
            }
        }

        /// Hands on a last line without a newline.
        mutating func finish(_ line: (Substring) throws(CaptureError) -> Void) throws(CaptureError) {
            if !pending.isEmpty { defer { pending = [] }; try line(Substring(String(decoding: pending, as: UTF8.self))) }
        }
    }

    extension String {
        /// Without trailing newlines.
        func trimmingNewlines() -> String {
            var s = Substring(self)
            while s.last == "\n" { s = s.dropLast() }
            return String(s)
        }
    }
#endif
