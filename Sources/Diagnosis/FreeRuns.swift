import Swiotlb

/// The longest runs of free slots in a pool, as the kernel's `io_tlb_list` numbers them (a run
/// never crosses a 128-slot segment): one pass over the pool.
public enum FreeRuns {
    /// At most this many pools are measured per replay or run: each measure reads every slot.
    public static let measuresPerRun = 16

    /// The longest free run of `pool`, and of each area when it has more than one.
    public static func longest(in pool: SlotPool) -> (run: Int, perArea: [Int]?) {
        let list = pool.list
        var perArea = [Int](repeating: 0, count: max(pool.areas.count, 1))
        let areaSlots = max(pool.areaSlots, 1)
        for i in 0..<pool.nslabs {
            let a = min(i / areaSlots, perArea.count - 1)
            perArea[a] = max(perArea[a], Int(list[i]))
        }
        return (perArea.max() ?? 0, perArea.count > 1 ? perArea : nil)
    }
}
