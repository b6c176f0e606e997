import Foundation
import Testing
import XenPVTestSupport

@testable import xenpv

#if canImport(Glibc)
    import Glibc
#endif

/// One suite, run in order: the signal test forks the process, and the child would otherwise
/// remove the temporaries another test had registered at that moment.
@Suite("output files", .serialized)
struct OutputFilesTests {
    /// A `--json` target.
    func json(_ path: String) -> OutputTarget { OutputTarget(option: "--json", path: path) }

    @Test("outputs are written whole, with no temporary left; a replaced file keeps its permissions")
    func writes() throws {
        let folder = try TestFolder("out")
        defer { folder.remove() }
        let kept = try folder.write("kept.json", Array("old".utf8))
        chmod(kept, 0o600)
        try OutputFiles.write([
            (json(kept), .text("{}\n")),
            (OutputTarget(option: "--dump-p2m", path: folder.file("p2m.txt")), .lines { emit in for i in 0..<100_000 { emit("line \(i)") } }),
        ])
        #expect(try String(contentsOfFile: kept, encoding: .utf8) == "{}\n")
        var status = stat()
        #expect(stat(kept, &status) == 0 && status.st_mode & 0o777 == 0o600)
        let lines = try String(contentsOfFile: folder.file("p2m.txt"), encoding: .utf8).split(separator: "\n")
        #expect(lines.count == 100_000 && lines.last == "line 99999")
        #expect(try folder.names() == ["kept.json", "p2m.txt"])
        #expect(TemporaryFiles.registered.isEmpty)
    }

    @Test("a symbolic link at the target is refused, never written through")
    func plantedSymlink() throws {
        let folder = try TestFolder("out")
        defer { folder.remove() }
        let victim = try folder.write("victim", Array("precious".utf8))
        let link = folder.file("report.json")
        #expect(symlink(victim, link) == 0)
        let message = "--json \(link): a symbolic link: xenpv does not write through links (give the path it points to)"
        #expect(errorMessage { try OutputFiles.check([json(link)]) } == message)
        #expect(errorMessage { try OutputFiles.write([(json(link), .text("{}"))]) } == message)
        #expect(try String(contentsOfFile: victim, encoding: .utf8) == "precious")
        #expect(try folder.names() == ["report.json", "victim"])
        // A dangling link too: nothing is created where it points.
        let dangling = folder.file("dangling.json")
        #expect(symlink(folder.file("nowhere"), dangling) == 0)
        #expect(errorMessage { try OutputFiles.write([(json(dangling), .text("{}"))]) }?.hasPrefix("--json \(dangling): a symbolic link") == true)
        #expect(try folder.names() == ["dangling.json", "report.json", "victim"])
    }

    @Test("a device, a FIFO or a folder as the target is refused and left as it is")
    func specialTargets() throws {
        #expect(
            errorMessage { try OutputFiles.write([(json("/dev/null"), .text("{}"))]) }
                == "--json /dev/null: not a regular file (a character device): xenpv only replaces regular files")
        var status = stat()
        #expect(stat("/dev/null", &status) == 0 && status.st_mode & S_IFMT == S_IFCHR)
        let folder = try TestFolder("out")
        defer { folder.remove() }
        let fifo = folder.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(
            errorMessage { try OutputFiles.check([OutputTarget(option: "--plot", path: fifo)]) }
                == "--plot \(fifo): not a regular file (a FIFO): xenpv only replaces regular files")
        #expect(
            errorMessage { try OutputFiles.check([json(folder.path)]) }
                == "--json \(folder.path): not a regular file (a folder): xenpv only replaces regular files")
        #expect(errorMessage { try OutputFiles.check([json(folder.path + "/")]) } == "--json \(folder.path)/: names a folder, not a file")
        #expect(try folder.names() == ["fifo"])
    }

    @Test("a missing folder, a file as folder and two options naming one file are refused")
    func badTargets() throws {
        let folder = try TestFolder("out")
        defer { folder.remove() }
        let missing = folder.file("missing/report.json")
        #expect(errorMessage { try OutputFiles.check([json(missing)]) } == "--json \(missing): folder '\(folder.file("missing"))' does not exist")
        let plain = try folder.write("plain", [])
        #expect(errorMessage { try OutputFiles.check([json(plain + "/x.json")]) } == "--json \(plain)/x.json: Not a directory")
        let same = [json(folder.file("a.json")), OutputTarget(option: "--plot", path: folder.path + "/./a.json")]
        #expect(errorMessage { try OutputFiles.check(same) } == "--json and --plot name the same file: \(folder.path)/./a.json")
        #expect(try folder.names() == ["plain"])
    }

    @Test("when one output cannot be written, none is, and no temporary is left")
    func allOrNone() throws {
        let folder = try TestFolder("out")
        defer { folder.remove() }
        let outputs: [(OutputTarget, OutputContent)] = [
            (json(folder.file("a.json")), .text("{}")),
            (OutputTarget(option: "--plot", path: "/dev/null"), .text("<svg/>")),
        ]
        #expect(
            errorMessage { try OutputFiles.write(outputs) } == "--plot /dev/null: not a regular file (a character device): xenpv only replaces regular files")
        #expect(try folder.names() == [])
        // A model failure after the run (no Xen host to dump) also leaves nothing.
        let scenario = try folder.writeScenario("native.yaml", ram: "1G", dmaBits: 64, stream: "{fio: {device: nvme0, ops: 10}}")
        let json = folder.file("report.json"), plot = folder.file("plot.svg"), m2p = folder.file("m2p.txt")
        #expect(
            errorMessage { try SimulateCommand.parse([scenario, "--json", json, "--plot", plot, "--dump-m2p", m2p]).run() }
                == "--dump-m2p: there is no Xen host in this scenario")
        #expect(
            errorMessage { try SimulateCommand.parse([scenario, "--json", json, "--plot", plot, "--dump-p2m", m2p]).run() }
                == "--dump-p2m: this guest has no P2M (not a PV guest, or it did not boot)")
        #expect(try folder.names() == ["native.yaml"])
        #expect(TemporaryFiles.registered.isEmpty)
    }

    @Test("SIGINT removes the registered temporaries, then ends the process as SIGINT would")
    func signalCleanup() throws {
        let folder = try TestFolder("out")
        defer { folder.remove() }
        let tmp = folder.file(".report.json.xenpv-test")
        let fd = TemporaryFiles.create(tmp, flags: O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW)
        #expect(fd >= 0)
        close(fd)
        #expect(TemporaryFiles.registered == [tmp])
        // The child only raises the signal (async-signal-safe after a fork); the handler it
        // inherited removes the file and re-raises.
        // The test runs on a worker thread that blocks signals: the child unblocks SIGINT first.
        var interrupt = sigset_t()
        sigemptyset(&interrupt)
        sigaddset(&interrupt, SIGINT)
        let child = fork()
        if child == 0 {
            sigprocmask(SIG_UNBLOCK, &interrupt, nil)
            raise(SIGINT)
            _exit(0)
        }
        var raw: Int32 = 0
        #expect(waitpid(child, &raw, 0) == child)
        #expect(raw & 0x7f == SIGINT)
        #expect(access(tmp, F_OK) != 0)
        TemporaryFiles.forget(tmp)
        #expect(TemporaryFiles.registered.isEmpty)
        #expect(try folder.names() == [])
    }
}
