import Foundation
import Testing
import XenPVTestSupport

@testable import xenpv

#if canImport(Glibc)
    import Glibc
#endif

@Suite("input bounds")
struct InputBoundsTests {
    @Test("a scenario over 4 MiB is refused: /dev/zero by reading, a regular file by its size")
    func scenarioSize() throws {
        #expect(errorMessage { try TextFile.read("/dev/zero", limit: .scenario) } == "/dev/zero: larger than 4 MiB: not a scenario")
        #expect(errorMessage { try ScenarioLoader.load("/dev/zero") } == "/dev/zero: larger than 4 MiB: not a scenario")
        let folder = try TestFolder("bounds")
        defer { folder.remove() }
        // A sparse file of 1 GiB: refused at once by its size, without reading it.
        let big = folder.file("big.yaml")
        let fd = open(big, O_WRONLY | O_CREAT, 0o644)
        #expect(ftruncate(fd, 1 << 30) == 0)
        close(fd)
        let start = Date()
        #expect(errorMessage { try ScenarioLoader.load(big) } == "\(big): larger than 4 MiB: not a scenario")
        #expect(Date().timeIntervalSince(start) < 1)
        // Exactly 4 MiB is read; one byte more is not.
        let exact = try folder.write("exact.yaml", [UInt8](repeating: 0x23, count: 4 << 20))
        #expect(try TextFile.read(exact, limit: .scenario).utf8.count == 4 << 20)
        let over = try folder.write("over.yaml", [UInt8](repeating: 0x23, count: (4 << 20) + 1))
        #expect(errorMessage { try TextFile.read(over, limit: .scenario) } == "\(over): larger than 4 MiB: not a scenario")
    }

    @Test("a log line over 1 MiB is refused with its line number; exactly 1 MiB is read")
    func logLines() throws {
        let folder = try TestFolder("bounds")
        defer { folder.remove() }
        let long = [UInt8](repeating: 0x61, count: (1 << 20) + 1)
        let log = try folder.write("dmesg.txt", Array("one\ntwo\n".utf8) + long + [0x0a] + Array("four\n".utf8))
        #expect(errorMessage { try TextFile.read(log, limit: .log) } == "\(log):3: line longer than 1 MiB")
        // The same line with no newline at the end of the file.
        let tail = try folder.write("tail.txt", Array("one\n".utf8) + long)
        #expect(errorMessage { try TextFile.read(tail, limit: .log) } == "\(tail):2: line longer than 1 MiB")
        let fits = try folder.write("fits.txt", Array("one\n".utf8) + long.dropLast() + [0x0a])
        #expect(try TextFile.read(fits, limit: .log).utf8.count == 4 + (1 << 20) + 1)
    }

    @Test("/dev/zero as a trace, a dump and a scenario's trace stops at the 1 MiB line bound")
    func devZeroStreams() throws {
        let reader = try LineReader(path: "/dev/zero")
        #expect(reader.nextBytes() == nil)
        #expect(reader.failure?.description == "/dev/zero:1: line longer than 1 MiB")
        #expect(reader.nextBytes() == nil)
        #expect(errorMessage { try SwiotlbReplayCommand.parse(["/dev/zero"]).run() } == "/dev/zero:1: line longer than 1 MiB")
        #expect(errorMessage { try DumpFile.read("/dev/zero") } == "/dev/zero:1: line longer than 1 MiB")
        let folder = try TestFolder("bounds")
        defer { folder.remove() }
        let scenario = try folder.writeScenario("trace.yaml", ram: "4G", dmaBits: 32, stream: "trace: {device: nvme0, file: /dev/zero}")
        #expect(
            errorMessage { try ScenarioLoader.load(scenario) }
                == "\(scenario):9: workload.streams[0].trace.file: /dev/zero:1: line longer than 1 MiB")
        // A trace that cannot be opened is named once, as it was opened.
        let missing = try folder.writeScenario("missing.yaml", ram: "4G", dmaBits: 32, stream: "trace: {device: nvme0, file: gone.trace}")
        let folderPath = String(missing[..<(missing.lastIndex(of: "/") ?? missing.startIndex)])
        #expect(
            errorMessage { try ScenarioLoader.load(missing) }
                == "\(missing):9: workload.streams[0].trace.file: \(folderPath)/gone.trace: No such file or directory")
    }

    @Test("a streamed line over the bound ends the reading after the lines before it, in bounded memory")
    func streamedLongLine() throws {
        let folder = try TestFolder("bounds")
        defer { folder.remove() }
        // 10 MB with no newline after two short lines.
        let path = try folder.write("trace.txt", Array("pool 0 slots=1024\nmap id=1\n".utf8) + [UInt8](repeating: 0x78, count: 10_000_000))
        let reader = try LineReader(path: path)
        #expect(reader.next() == "pool 0 slots=1024")
        #expect(reader.next() == "map id=1")
        #expect(reader.next() == nil)
        #expect(reader.failure?.description == "\(path):3: line longer than 1 MiB")
        #expect(reader.lineNumber == 2)
    }

    @Test("a FIFO with no writer reads as empty at once; /dev/null is empty; a folder is refused")
    func specialFiles() throws {
        let folder = try TestFolder("bounds")
        defer { folder.remove() }
        let fifo = folder.file("fifo")
        #expect(mkfifo(fifo, 0o600) == 0)
        #expect(try TextFile.read(fifo, limit: .scenario) == "")
        let reader = try LineReader(path: fifo)
        #expect(reader.nextBytes() == nil)
        #expect(reader.failure == nil)
        #expect(errorMessage { try DumpFile.read(fifo) } == "\(fifo): empty file")
        #expect(try TextFile.read("/dev/null", limit: .scenario) == "")
        #expect(errorMessage { try DumpFile.read("/dev/null") } == "/dev/null: empty file")
        #expect(errorMessage { try TextFile.read(folder.path, limit: .scenario) } == "\(folder.path): Is a directory")
        #expect(errorMessage { try LineReader(path: folder.path) } == "\(folder.path): Is a directory")
        #expect(errorMessage { try TextFile.read(folder.file("absent"), limit: .log) } == "\(folder.file("absent")): No such file or directory")
    }
}
