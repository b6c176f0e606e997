import Swiotlb
import XenMemory

/// Replays a captured trace and compares each result with what the live kernel gave: a map's
/// address with its `kernel_tlb=`, the used count after each map and unmap with its
/// `kernel_used=`, a map the kernel could not serve (no `kernel_tlb=`) with `error=full`.
public struct ReplayCheck: Sendable {
    private var replayer: TraceReplayer
    private var results = ReplayOutput(capacity: 1024)
    /// Maps replayed.
    public private(set) var maps = 0
    /// Maps whose address (or failure) and used count are the kernel's.
    public private(set) var identicalMaps = 0
    /// Operations that differ (maps and unmaps).
    public private(set) var differences = 0
    /// The first difference: `<line>: <op id>: kernel <what>, model <what>`.
    public private(set) var firstDifference: String? = nil

    /// A check under `kernel`'s semantics (a capture of 6.1 is replayed with v6.1).
    public init(kernel: SwiotlbKernel = .v6_1) { replayer = TraceReplayer(kernel: kernel) }

    /// Replays one trace line (UTF-8, no newline) and compares its result. A malformed line or
    /// a kernel BUG is the replay's own error.
    public mutating func feed(bytes: UnsafeBufferPointer<UInt8>, line: Int) throws(TraceError) {
        results.removeAll()
        do throws(TraceError) {
            try replayer.feed(bytes: bytes, line: line, into: &results)
        } catch {
            guard error.isKernelHang else { throw error }
            maps += 1
            differ(line, "\(Self.token("id=", in: bytes) ?? "map"): kernel returned, model would never return (Linux 6.1.192's looping search)")
            throw error
        }
        _ = replayer.takeMessages()
        guard results.count > 0 else { return }
        let model = results.lines[0]
        let kernelTLB = Self.token("kernel_tlb=", in: bytes), kernelUsed = Self.token("kernel_used=", in: bytes)
        let id = Self.token("id=", in: bytes) ?? "?"
        let fields = model.split(separator: " ")
        func value(_ key: String) -> Substring? { fields.first { $0.hasPrefix(key) }.map { $0.dropFirst(key.count) } }
        var mismatches: [String] = []
        if model.hasPrefix("map ") {
            maps += 1
            let modelTLB = value("tlb=")
            if let k = kernelTLB {
                if modelTLB.flatMap(Hex.number) != Hex.number(Substring(k)) {
                    mismatches.append("kernel tlb=\(k), model \(modelTLB.map { "tlb=\($0)" } ?? String(fields.dropFirst(2).first ?? ""))")
                }
            } else if modelTLB != nil {
                mismatches.append("kernel failed (no kernel_tlb=), model tlb=\(modelTLB!)")
            }
        }
        if let k = kernelUsed, let m = value("used="), Hex.number(m) != Hex.number(Substring(k)) { mismatches.append("kernel used=\(k), model used=\(m)") }
        if model.hasPrefix("map ") && mismatches.isEmpty { identicalMaps += 1 }
        if !mismatches.isEmpty { differ(line, "id=\(id): " + mismatches.joined(separator: "; ")) }
    }

    private mutating func differ(_ line: Int, _ what: String) {
        differences += 1
        if firstDifference == nil { firstDifference = "line \(line): \(what)" }
    }

    /// `<N> maps, <S>/<N> bounce addresses and used counts identical`, then the first
    /// difference if there is one.
    public var summary: [String] {
        var out = ["\(maps) maps, \(identicalMaps)/\(maps) bounce addresses and used counts identical"]
        if let f = firstDifference { out.append("first difference: \(f) (\(differences) differing operations in all)") }
        return out
    }

    /// The value of the first `key` token before any `#`.
    static func token(_ key: StaticString, in b: UnsafeBufferPointer<UInt8>) -> String? {
        let k = UnsafeBufferPointer(start: key.utf8Start, count: key.utf8CodeUnitCount)
        var i = 0
        while i < b.count {
            while i < b.count, b[i] == 0x20 || b[i] == 0x09 { i += 1 }
            guard i < b.count, b[i] != 0x23 else { return nil }
            let s = i
            while i < b.count, b[i] != 0x20, b[i] != 0x09, b[i] != 0x23 { i += 1 }
            if i - s > k.count, b[s..<(s + k.count)].elementsEqual(k) {
                return String(decoding: b[(s + k.count)..<i], as: UTF8.self)
            }
        }
        return nil
    }
}
