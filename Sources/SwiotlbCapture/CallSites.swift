/// Where a function's machine code calls or tail-jumps to another function (x86-64 `call rel32`,
/// opcode 0xe8, or `jmp rel32`, 0xe9): the probe points inside the allocator's area lock are the
/// calls to `_raw_spin_unlock_irqrestore`, and the map's result is the argument of its call to
/// `swiotlb_bounce`. A byte pattern can also match inside another instruction; the kernel refuses
/// a kprobe that is not on an instruction boundary, so such a match cannot go unnoticed.
public enum CallSites {
    /// Byte offsets in `code` (the function's bytes, loaded at `address`) of every 5-byte
    /// `call`/`jmp` whose target is `target`.
    public static func find(in code: [UInt8], at address: UInt64, to target: UInt64) -> [Int] {
        guard code.count >= 5 else { return [] }
        var out: [Int] = []
        for i in 0...(code.count - 5) where code[i] == 0xe8 || code[i] == 0xe9 {
            let rel = Int32(bitPattern: UInt32(code[i + 1]) | UInt32(code[i + 2]) << 8 | UInt32(code[i + 3]) << 16 | UInt32(code[i + 4]) << 24)
            let next = address &+ UInt64(i + 5)
            if next &+ UInt64(bitPattern: Int64(rel)) == target { out.append(i) }
        }
        return out
    }
}
