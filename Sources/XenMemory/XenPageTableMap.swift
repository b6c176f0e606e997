/// Which parts of Xen's direct map have page tables while it boots, as `map_pages_to_xen`
/// (`arch/x86/mm.c`) leaves them: the 2 MiB superpages `__start_xen` prebuilt below 4 GiB
/// (each RAM entry's 2 MiB-aligned part), 1 GiB pages where a mapping covers a whole aligned
/// GiB above 4 GiB, L2 tables of the other GiBs above 4 GiB, and L1 tables of 2 MiB slots
/// mapped in part. A slot whose L1 becomes complete is merged into a superpage, and a GiB
/// whose L2 becomes all superpages into a 1 GiB page, as `map_pages_to_xen` does.
struct XenPageTableMap {
    private var prebuilt: [Range<UInt64>]
    private var superSlots = Set<UInt64>()
    private var gigaPages = Set<UInt64>()
    /// Frames mapped through each L1 table, by 2 MiB slot.
    private var l1Frames: [UInt64: UInt64] = [:]
    /// Superpages mapped through each L2 table, by GiB (above 4 GiB).
    private var l2Slots: [UInt64: UInt64] = [:]

    static let superpage: UInt64 = 0x200
    static let gigapage: UInt64 = 0x40000
    static let fourGiB: UInt64 = 0x100000

    /// The prebuilt superpages: each RAM entry's 2 MiB-aligned part from 2 MiB to 4 GiB.
    init(prebuilt ram: [Range<UInt64>]) {
        prebuilt = ram.compactMap { r in
            let s = max((r.lowerBound + Self.superpage - 1) & ~(Self.superpage - 1), Self.superpage)
            let e = min(r.upperBound & ~(Self.superpage - 1), Self.fourGiB)
            return s < e ? s..<e : nil
        }
    }

    /// Slots remapped in 4 KiB pages for good (a stack's guard pages).
    private var shattered = Set<UInt64>()

    private func isSuperpage(_ slot: UInt64) -> Bool {
        guard !shattered.contains(slot) else { return false }
        return superSlots.contains(slot) || gigaPages.contains(slot & ~(Self.gigapage - 1))
            || prebuilt.contains { $0.contains(slot) }
    }

    /// `map_pages_to_xen` over `frames`: the page-table pages it allocates.
    mutating func map(_ frames: Range<UInt64>) -> Int {
        var tables = 0
        var s = frames.lowerBound
        while s < frames.upperBound {
            let giga = s & ~(Self.gigapage - 1)
            if s >= Self.fourGiB && giga == s && s + Self.gigapage <= frames.upperBound && l2Slots[giga] == nil {
                gigaPages.insert(giga)
                s += Self.gigapage
                continue
            }
            let slot = s & ~(Self.superpage - 1)
            let end = min(slot + Self.superpage, frames.upperBound)
            defer { s = end }
            if isSuperpage(slot) || shattered.contains(slot) { continue }
            if slot >= Self.fourGiB && l2Slots[giga] == nil {
                l2Slots[giga] = 0
                tables += 1
            }
            if s == slot && end == slot + Self.superpage {
                addSuperpage(slot)
            } else {
                if l1Frames[slot] == nil { tables += 1 }
                let n = (l1Frames[slot] ?? 0) + (end - s)
                if n == Self.superpage {
                    l1Frames[slot] = nil
                    addSuperpage(slot)
                } else {
                    l1Frames[slot] = n
                }
            }
        }
        return tables
    }

    private mutating func addSuperpage(_ slot: UInt64) {
        superSlots.insert(slot)
        guard slot >= Self.fourGiB else { return }
        let giga = slot & ~(Self.gigapage - 1)
        let n = (l2Slots[giga] ?? 0) + 1
        if n == Self.gigapage / Self.superpage {
            l2Slots[giga] = nil
            gigaPages.insert(giga)
        } else {
            l2Slots[giga] = n
        }
    }

    /// `memguard_guard_stack`: remapping a stack page with other permissions shatters the
    /// 1 GiB page and the superpage that hold it; the tables that takes.
    mutating func guardStack(_ frame: UInt64) -> Int {
        let slot = frame & ~(Self.superpage - 1)
        let giga = frame & ~(Self.gigapage - 1)
        var tables = 0
        if gigaPages.remove(giga) != nil {
            l2Slots[giga] = Self.gigapage / Self.superpage
            for i in 0..<(Self.gigapage / Self.superpage) { superSlots.insert(giga + i * Self.superpage) }
            tables += 1
        }
        if isSuperpage(slot) { tables += 1 }
        shattered.insert(slot)
        return tables
    }
}
