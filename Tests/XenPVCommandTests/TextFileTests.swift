import Foundation
import Testing

@testable import xenpv

@Suite("text files")
struct TextFileTests {
    @Test("a file reads whole; a directory or a failed read is an error, not an empty text")
    func reads() throws {
        let path = NSTemporaryDirectory() + "xenpv-text-\(UUID().uuidString).yaml"
        let text = String(repeating: "line of a scenario\n", count: 10_000)
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        defer { try? FileManager.default.removeItem(atPath: path) }
        #expect(try TextFile.read(path, limit: .scenario) == text)
        for (bad, message) in [(NSTemporaryDirectory(), "Is a directory"), ("/proc/self/mem", "Input/output error")] {
            do {
                _ = try TextFile.read(bad, limit: .scenario)
                Issue.record("\(bad) read without an error")
            } catch {
                #expect("\(error)" == "\(bad): \(message)")
            }
        }
    }
}
