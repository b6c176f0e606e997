import Testing
import XenMemory

@testable import Swiotlb

@Suite("trace id table")
struct TraceIDTableTests {
    /// Runs `body` with the id's bytes as a `TraceID`.
    func withID<R>(_ bytes: [UInt8], _ body: (TraceID) -> R) -> R {
        bytes.withUnsafeBufferPointer { body(TraceID($0)) }
    }

    @Test("ids that differ only in length or past byte 16 are different keys")
    func packedKeysKeepLengthAndLongBytes() {
        var t = TraceIDTable<Int>()
        let ids: [[UInt8]] = [
            [0x61], [0x61, 0], [0x61, 0, 0, 0], Array(repeating: 0x79, count: 16),
            Array(repeating: 0x79, count: 17), Array(repeating: 0x79, count: 16) + [0x7a],
            Array(repeating: 0x79, count: 40), Array(repeating: 0x79, count: 39) + [0x7a],
        ]
        for (i, id) in ids.enumerated() { withID(id) { t.set(i, for: $0) } }
        #expect(t.count == ids.count)
        for (i, id) in ids.enumerated() { #expect(withID(id) { t.value(for: $0) } == i) }
        #expect(withID(Array(repeating: 0x79, count: 41)) { t.contains($0) } == false)
        #expect(withID(Array(repeating: 0x79, count: 17)) { t.remove($0) } == 4)
        #expect(withID(Array(repeating: 0x79, count: 16) + [0x7a]) { t.value(for: $0) } == 5)
        #expect(t.count == ids.count - 1)
    }

    @Test("agrees with a dictionary over 200 000 random sets, lookups and removes")
    func matchesDictionary() {
        var t = TraceIDTable<Int>()
        var model: [[UInt8]: Int] = [:]
        var rng = SplitMix64(seed: 0x1d_2026)
        func next() -> UInt64 { rng.next() }
        // Few distinct ids of every length from 1 to 24, bytes from a small alphabet with NUL.
        let lengths = [1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 23, 24]
        for step in 0..<200_000 {
            let n = lengths[Int(next() % UInt64(lengths.count))]
            let id = (0..<n).map { _ in [0x00, 0x61, 0x62, 0x6d][Int(next() % 4)] as UInt8 }
            switch next() % 3 {
            case 0:
                withID(id) { t.set(step, for: $0) }
                model[id] = step
            case 1:
                #expect(withID(id) { t.value(for: $0) } == model[id])
            default:
                #expect(withID(id) { t.remove($0) } == model.removeValue(forKey: id))
            }
            if step % 10_000 == 0 { #expect(t.count == model.count) }
        }
        #expect(t.count == model.count)
        for (id, v) in model { #expect(withID(id) { t.value(for: $0) } == v) }
    }
}
