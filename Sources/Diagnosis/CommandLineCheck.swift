import Swiotlb
import XenMemory

/// `cmdline-not-applied`: the `swiotlb=` on the command line read as the kernel reads it,
/// against the pool it actually mapped.
enum CommandLineCheck {
    /// The value of the last `swiotlb=` word of `cmdline` (the kernel applies each in turn).
    static func swiotlbValue(in cmdline: String) -> String? {
        cmdline.split(whereSeparator: { $0 == " " || $0 == "\t" }).last { $0.hasPrefix("swiotlb=") }.map { String($0.dropFirst(8)) }
    }

    /// SEV/TDX's default when no size is given: 6 % of memory, clamped to 64 MiB – 1 GiB
    /// (`mem_encrypt_setup_arch`), in slots aligned to a segment (`swiotlb_adjust_size`).
    static func encryptedDefaultSlots(memoryBytes: UInt64) -> UInt64 {
        let size = min(max(memoryBytes / 100 * 6 + memoryBytes % 100 * 6 / 100, 64 << 20), 1 << 30)
        return IOTLB.alignToSegment((size + UInt64(IOTLB.slotSize) - 1) >> UInt64(IOTLB.shift))
    }

    /// The RFC's `swiotlb=<low>,<high>` given to a kernel that reads its second number as an
    /// area count (6.x, when it is at least 1024): the given value, the areas it became, the
    /// RFC's high pool and its low pool's slots.
    static func rfcFormOnAreas(_ e: Evidence) -> (given: String, areas: UInt64, high: UInt64, low: UInt64)? {
        guard e.kernel.hasAreas, let given = e.commandLine.flatMap({ swiotlbValue(in: $0.text) }),
            let areas = SwiotlbCommandLine(parsing: given, kernel: e.kernel.cmdlineRules).areas, areas >= 1024
        else { return nil }
        let rfc = SwiotlbCommandLine(parsing: given, kernel: .rfcV1)
        guard let high = rfc.highNslabs else { return nil }
        return (given, areas, high, rfc.effectiveNslabs)
    }

    /// The verdict, when a pool was seen and the kernel's reading of the command line (or
    /// SEV/TDX's default) differs from it.
    static func verdict(_ e: Evidence, _ sizes: inout SizeChoice) -> Verdict? {
        guard let pool = e.pools.first, pool.nslabs > 0 else { return nil }
        let k = e.kernel
        let given = e.commandLine.flatMap { swiotlbValue(in: $0.text) }
        var evidence = [pool.source]
        if let c = e.commandLine { evidence.append("\(c.source): swiotlb=\(given ?? "(none)")") }
        guard let given else {
            // No size given: SEV/TDX sizes the pool from memory.
            guard let enc = e.memoryEncryption, let memory = e.totalMemoryBytes else { return nil }
            let want = encryptedDefaultSlots(memoryBytes: memory)
            guard let expected = k.poolSlots(SwiotlbCommandLine(parsing: "\(want)", kernel: k.cmdlineRules), possibleCPUs: e.possibleCPUs)?.slots,
                expected != UInt64(pool.nslabs), !e.allocationFailed
            else { return nil }
            return Verdict(
                .cmdlineNotApplied, device: nil, evidence: evidence + [enc] + e.setupLines,
                explanation:
                    "memory encryption sizes the pool at 6 % of memory (\(memory >> 20) MiB → \(SizePolicy.megabytes(expected)) MB, clamped to 64 MiB–1 GiB), but \(SizePolicy.megabytes(UInt64(pool.nslabs))) MB was mapped",
                figures: [("expected_slots", Int(expected)), ("mapped_slots", pool.nslabs)])
        }
        let parsed = SwiotlbCommandLine(parsing: given, kernel: k.cmdlineRules)
        let reading = k.poolSlots(parsed, possibleCPUs: e.possibleCPUs)
        if let reading, reading.slots == UInt64(pool.nslabs) {
            guard k.hasHighPool, let high = parsed.highNslabs, e.pools.count > 1, UInt64(e.pools[1].nslabs) != high else { return nil }
            return Verdict(
                .cmdlineNotApplied, device: nil, evidence: [e.pools[1].source] + evidence.dropFirst(),
                explanation:
                    "the high pool asked for \(high) slots (\(SizePolicy.megabytes(high)) MB) but \(e.pools[1].nslabs) were mapped\(e.allocationFailed ? ": its allocation failed and was halved" : "")",
                figures: [("expected_slots", Int(high)), ("mapped_slots", e.pools[1].nslabs)])
        }
        let expectedText =
            reading.map { "\($0.slots) slots (\(SizePolicy.megabytes($0.slots)) MB\(k.hasAreas ? " in \($0.areas) area\($0.areas == 1 ? "" : "s")" : ""))" }
            ?? "more than 2^25 slots"
        var why: [String] = []
        if let form = rfcFormOnAreas(e) {
            why.append("this kernel reads swiotlb=<slots>,<areas>: \(form.areas) is an area count here, not the RFC's high pool of \(form.high) slots")
            sizes.proposeForm(low: form.low, areas: nil, reason: "cmdline-not-applied: the RFC's low pool in \(k)'s form (it has one pool)")
        }
        if e.allocationFailed { why.append("the allocation failed and the kernel halved the pool until one fitted") }
        if parsed.wrapped { why.append("a number does not fit and the kernel keeps its low bits") }
        if !parsed.ignored.isEmpty { why.append("'\(ErrorToken.clipped(parsed.ignored))' is ignored by the kernel") }
        if why.isEmpty { why.append("is it on this kernel's command line (not Xen's), and spelt swiotlb=<slots>?") }
        return Verdict(
            .cmdlineNotApplied, device: nil,
            evidence: evidence + [
                "\(k) reads swiotlb=\(given) as \(expectedText); mapped \(pool.nslabs) slots (\(SizePolicy.megabytes(UInt64(pool.nslabs))) MB)"
            ] + e.setupLines,
            explanation: "swiotlb=\(given) did not give the pool it asks for: " + why.joined(separator: "; "),
            figures: [("expected_slots", reading.map { Int(clamping: $0.slots) } ?? -1), ("mapped_slots", pool.nslabs)])
    }
}
