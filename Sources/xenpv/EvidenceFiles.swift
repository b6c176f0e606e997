import Diagnosis
import Swiotlb
import XenDumps
import XenLive
import XenMemory

#if canImport(Glibc)
    import Glibc
#endif

/// Reads `diagnose`'s evidence, bounded, from files or from the running system. A file that
/// does not read is refused in one line naming it (and its line); on the running system, what
/// is not there becomes a note saying so.
enum EvidenceFiles {
    /// The swiotlb debugfs folder.
    static let debugfsFolder = String(SwiotlbKernelText.debugfsFolder.dropLast())
    /// The files of that folder diagnosis reads (the RFC's `-highmem` pair included).
    static let debugfsFiles = [
        SwiotlbKernelText.nslabsFile, SwiotlbKernelText.usedFile, SwiotlbKernelText.highWaterFile,
        SwiotlbKernelText.nslabsFile + SwiotlbKernelText.highPoolSuffix, SwiotlbKernelText.usedFile + SwiotlbKernelText.highPoolSuffix,
    ]

    /// A kernel log file (`-`: standard input).
    static func log(_ path: String) throws -> SystemEvidence.Log {
        let text = try TextFile.read(path, limit: .log)
        return (try parseLog(text, name: IOError.shown(path)), IOError.shown(path))
    }

    static func parseLog(_ text: String, name: String) throws -> SwiotlbKernelLog {
        do { return try SwiotlbKernelLog(lines: text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline)) } catch {
            throw CLIError("\(name):\(error.line): \(error.message)")
        }
    }

    /// The running kernel's log from /dev/kmsg; nil with a note when it cannot be read.
    static func runningLog(_ notes: inout [String]) throws -> SystemEvidence.Log? {
        let text: String
        do { text = try KernelMessages.readAll(limit: InputLimit.log.bytes) } catch {
            notes.append("not here: the kernel log (\(error); reading /dev/kmsg needs root, or give --dmesg)")
            return nil
        }
        return (try parseLog(text, name: KernelMessages.path), KernelMessages.path)
    }

    /// A debugfs copy: a folder of the kernel's files, or a `grep -H . …/swiotlb/*` capture.
    static func debugfs(_ path: String) throws -> SystemEvidence.Debugfs {
        var status = stat()
        guard stat(path, &status) == 0 else { throw IOError(path, errno: errno) }
        if status.st_mode & S_IFMT == S_IFDIR {
            let values = try debugfsFolder(path, missing: { _ in })
            guard !values.isEmpty else { throw CLIError("\(path): none of \(debugfsFiles.joined(separator: ", ")) in this folder") }
            return (values, path)
        }
        let text = try TextFile.read(path, limit: .debugfs)
        do {
            let values = try SwiotlbDebugfs.read(lines: text.split(omittingEmptySubsequences: false, whereSeparator: \.isNewline))
            guard !values.isEmpty else { throw CLIError("\(path): no '\(SwiotlbKernelText.debugfsFolder)<file>: <count>' line") }
            return (values, path)
        } catch let error as DumpError {
            throw CLIError("\(path):\(error.line): \(error.message)")
        }
    }

    /// The decimal counts of the debugfs files in `folder`; `missing` hears of each absent file.
    static func debugfsFolder(_ folder: String, missing: (String) -> Void) throws -> [(file: String, value: Int)] {
        var values: [(file: String, value: Int)] = []
        for name in debugfsFiles {
            let path = folder + "/" + name
            guard access(path, F_OK) == 0 else { missing(name); continue }
            let text = try TextFile.read(path, limit: .debugfs)
            let digits = text.split(whereSeparator: \.isNewline).first.map(String.init) ?? ""
            guard digits.count <= 18, let value = Int(digits), value >= 0 else {
                throw CLIError("\(path):1: expected a decimal count, got \(RefusalLine.quoted(String(digits)))")
            }
            values.append((name, value))
        }
        return values
    }

    /// The running system's debugfs values; nil with a note when the folder is not there.
    static func runningDebugfs(_ notes: inout [String]) throws -> SystemEvidence.Debugfs? {
        guard access(debugfsFolder, R_OK | X_OK) == 0 else {
            notes.append("not here: \(debugfsFolder) (\(IOError.reason(errno)); debugfs mounted, root, a kernel with swiotlb?)")
            return nil
        }
        let values = try debugfsFolder(debugfsFolder, missing: { _ in })
        return values.isEmpty ? nil : (values, debugfsFolder)
    }

    /// The running kernel's command line; nil with a note when /proc/cmdline cannot be read.
    static func runningCmdline(_ notes: inout [String]) -> (text: String, source: String)? {
        do {
            let text = try TextFile.read("/proc/cmdline", limit: .debugfs)
            return (text.split(whereSeparator: \.isNewline).first.map(String.init) ?? "", "/proc/cmdline")
        } catch {
            notes.append("not here: \(error)")
            return nil
        }
    }

    /// The running kernel from /proc/sys/kernel/osrelease (when its log has no `Linux version`).
    static func runningKernel() -> (DiagnosedKernel, String)? {
        // Unreadable is "not known here": diagnose then says it found no kernel version.
        guard let text = try? TextFile.read("/proc/sys/kernel/osrelease", limit: .debugfs),
            let release = text.split(whereSeparator: \.isNewline).first, let k = DiagnosedKernel(String(release))
        else { return nil }
        return (k, "/proc/sys/kernel/osrelease: \(release)")
    }

    /// Replays the trace at `path` (`-`: standard input), streaming.
    static func trace(_ path: String, kernel: DiagnosedKernel) throws -> TraceEvidence {
        let reader = try LineReader(path: path)
        let name = IOError.shown(path)
        var evidence = TraceEvidence(name: name, kernel: kernel)
        var number = 0
        var stopped = false
        do throws(TraceError) {
            while let bytes = reader.nextBytes() {
                number += 1
                guard try evidence.feed(bytes: bytes, line: number) else { stopped = true; break }
            }
        } catch {
            throw CLIError(error.report(file: name))
        }
        if !stopped, let failure = reader.failure { throw failure }
        do throws(TraceError) { try evidence.finish() } catch { throw CLIError(error.report(file: name)) }
        return evidence
    }
}
