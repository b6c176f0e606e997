#if os(Linux)
    import Glibc
    import XenMemory

    /// Where the kernel's functions are (`/proc/kallsyms`) and their live machine code
    /// (`/proc/kcore`), read-only, for the probe points inside the allocator's area lock.
    struct KernelCode {
        /// A text symbol's address and the distance to the next one (its size, at most).
        struct Symbol { var address: UInt64; var size: UInt64 }

        /// The symbols asked for.
        let symbols: [String: Symbol]

        /// Reads `/proc/kallsyms` for `names` (text symbols of the kernel proper).
        init(names: Set<String>, path: String = "/proc/kallsyms") throws(CaptureError) {
            guard let text = try KernelFiles.read(path, limit: 64 << 20) else {
                throw CaptureError("cannot read \(path): \(String(cString: strerror(errno)))")
            }
            var found: [String: UInt64] = [:]
            var addresses: [UInt64] = []
            addresses.reserveCapacity(200_000)
            var sawNonZero = false
            for line in text.split(separator: 0x0a) {
                let parts = line.split(separator: 0x20, maxSplits: 3)
                guard parts.count == 3, let a = Hex.value(digits: Substring(decoding: parts[0], as: UTF8.self)) else { continue }
                let type = parts[1].first ?? 0
                guard type == 0x74 || type == 0x54 else { continue }  // t, T
                if a != 0 { sawNonZero = true }
                addresses.append(a)
                let name = String(decoding: parts[2], as: UTF8.self)
                if names.contains(name), found[name] == nil { found[name] = a }
            }
            guard sawNonZero else { throw CaptureError("\(path) shows every address as 0 (kptr_restrict, or not root)") }
            addresses.sort()
            var out: [String: Symbol] = [:]
            for (name, a) in found {
                var lo = 0, hi = addresses.count
                while lo < hi { let mid = (lo + hi) / 2; if addresses[mid] <= a { lo = mid + 1 } else { hi = mid } }
                let next = lo < addresses.count ? addresses[lo] : a + 4096
                out[name] = Symbol(address: a, size: min(next - a, 1 << 16))
            }
            symbols = out
        }

        /// The symbol, or the error a capture gives when this kernel has no such function.
        func symbol(_ name: String) throws(CaptureError) -> Symbol {
            guard let s = symbols[name] else {
                throw CaptureError("symbol \(name) is not probeable: not in /proc/kallsyms (inlined or renamed in this kernel)")
            }
            return s
        }

        /// The live bytes of `symbol` from `/proc/kcore` (an ELF core file of the kernel's memory).
        static func bytes(of symbol: Symbol, name: String, kcore: String = "/proc/kcore") throws(CaptureError) -> [UInt8] {
            let fd = open(kcore, O_RDONLY | O_CLOEXEC)
            guard fd >= 0 else { throw CaptureError("cannot read \(kcore) (the code of \(name)): \(String(cString: strerror(errno)))") }
            defer { close(fd) }
            func pread(_ count: Int, at offset: UInt64) -> [UInt8]? {
                guard offset < UInt64(Int64.max) else { return nil }
                var b = [UInt8](repeating: 0, count: count)
                let n = b.withUnsafeMutableBytes { Glibc.pread(fd, $0.baseAddress, count, off_t(offset)) }
                return n == count ? b : nil
            }
            func u16(_ b: [UInt8], _ i: Int) -> UInt64 { UInt64(b[i]) | UInt64(b[i + 1]) << 8 }
            func u32(_ b: [UInt8], _ i: Int) -> UInt64 { u16(b, i) | u16(b, i + 2) << 16 }
            func u64(_ b: [UInt8], _ i: Int) -> UInt64 { u32(b, i) | u32(b, i + 4) << 32 }
            guard let h = pread(64, at: 0), h[0] == 0x7f, h[1] == 0x45, h[2] == 0x4c, h[3] == 0x46, h[4] == 2, h[5] == 1 else {
                throw CaptureError("\(kcore) is not a 64-bit little-endian ELF core")
            }
            let phoff = u64(h, 32), phentsize = Int(u16(h, 54)), phnum = Int(u16(h, 56))
            guard phentsize >= 56, phnum <= 4096 else { throw CaptureError("\(kcore): unexpected program headers") }
            for i in 0..<phnum {
                guard let p = pread(56, at: phoff &+ UInt64(i * phentsize)) else { break }
                guard u32(p, 0) == 1 else { continue }  // PT_LOAD
                let offset = u64(p, 8), vaddr = u64(p, 16), filesz = u64(p, 32)
                guard symbol.address >= vaddr, symbol.address - vaddr < filesz, filesz - (symbol.address - vaddr) >= symbol.size else { continue }
                guard let code = pread(Int(symbol.size), at: offset &+ (symbol.address - vaddr)) else { break }
                return code
            }
            throw CaptureError("symbol \(name) is not probeable: its code at \(Hex.plain(symbol.address)) is not readable in \(kcore)")
        }
    }
#endif
