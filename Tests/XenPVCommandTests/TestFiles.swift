import Foundation

#if canImport(Glibc)
    import Glibc
#endif

/// A fresh folder under the temporary directory, removed by `remove()`.
struct TestFolder {
    /// The folder's path (no slash at the end).
    let path: String

    /// Creates `xenpv-<label>-<uuid>` in the temporary directory.
    init(_ label: String) throws {
        path = NSTemporaryDirectory() + "xenpv-\(label)-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: false)
    }

    /// `path/name`.
    func file(_ name: String) -> String { path + "/" + name }

    /// Writes `bytes` to `name` and returns its path.
    @discardableResult
    func write(_ name: String, _ bytes: [UInt8]) throws -> String {
        try Data(bytes).write(to: URL(fileURLWithPath: file(name)))
        return file(name)
    }

    /// Writes `name`: a scenario whose native guest has all of `ram`, one device `nvme0` of
    /// `dmaBits` bits and one workload stream, `stream` (YAML flow text), which stands on line 9.
    /// Returns its path.
    func writeScenario(_ name: String, ram: String, dmaBits: Int, stream: String) throws -> String {
        try write(
            name,
            Array(
                """
                schema: 1
                name: \(name)
                host: {ram: \(ram)}
                guest: {type: native, memory: \(ram)}
                devices:
                  - {name: nvme0, dma_bits: \(dmaBits)}
                workload:
                  streams:
                    - \(stream)

                """.utf8))
    }

    /// The names in the folder, sorted.
    func names() throws -> [String] { try FileManager.default.contentsOfDirectory(atPath: path).sorted() }

    /// Removes the folder and what is in it.
    func remove() { try? FileManager.default.removeItem(atPath: path) }

    /// Runs `tool arguments` and returns its exit status.
    @discardableResult
    static func run(_ tool: String, _ arguments: [String]) throws -> Int32 {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: tool)
        p.arguments = arguments
        try p.run()
        p.waitUntilExit()
        return p.terminationStatus
    }
}
