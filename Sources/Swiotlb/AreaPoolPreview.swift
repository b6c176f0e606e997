/// What 6.1's and 6.18's set-up does with `swiotlb=` alone, before any memory is asked for
/// (`xenpv swiotlb cmdline`): `swiotlb_adjust_nareas`' lines (``Linux61PoolSetup/adjustNareas(_:_:_:)``),
/// the pool `swiotlb_init_remap` asks for, and the sizes it halves to while no memory is found
/// (`ALIGN(nslabs >> 1, 128)` down to `IO_TLB_MIN_SLABS`), each with its areas: `default_nareas`
/// kept (6.1.192) or, with `limitsAreas`, `limit_nareas` of them (6.18: at most one per 128
/// slots). `noforce` sets up no pool.
enum AreaPoolPreview {
    /// The lines for `c` on a guest with `cpus` possible CPUs.
    static func lines(_ c: SwiotlbCommandLine, cpus: Int, limitsAreas: Bool) -> [String] {
        guard c.force != .noForce else { return ["noforce: swiotlb_force_disable, no pool is set up"] }
        var nslabs = c.effectiveNslabs
        var lines: [String] = []
        let areas = Linux61PoolSetup.adjustNareas(&nslabs, c.areas ?? UInt64(max(cpus, 1)), &lines)
        var a = limitsAreas ? RemapPoolSetup.limitAreas(areas, slots: nslabs) : areas
        lines.append("pool: \(nslabs) slots (\(nslabs >> 9)MB) in \(a) areas of \(nslabs / max(a, 1)) slots")
        var n = nslabs
        var tries: [String] = []
        while n > RemapPoolSetup.minSlabs {
            n = IOTLB.alignToSegment(n >> 1)
            if limitsAreas { a = RemapPoolSetup.limitAreas(a, slots: n) }
            tries.append("\(n)/\(a)")
        }
        if !tries.isEmpty {
            lines.append("if its memory is not found, halved to (slots/areas): \(tries.joined(separator: ", ")); then no pool")
        }
        return lines
    }
}
