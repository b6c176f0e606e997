import XenMemory

#if canImport(Glibc)
    import Glibc
#elseif canImport(Darwin)
    import Darwin
#endif

/// The bytes of a sparse physical address space; untouched bytes read as zero (memblock and
/// page-allocator memory for the pools is zeroed).
///
/// Memory is held in zero-filled 2 MiB chunks allocated on first write, so a bounce copy is one
/// `memmove` per chunk it touches and never allocates once its chunks exist. The space is a
/// value: a copy shares the chunks until one side writes (copy-on-write).
public struct PhysicalMemory: Sendable {
    /// log2 of the chunk size.
    static let chunkShift = 21
    static let chunkBytes = 1 << chunkShift
    static let chunkMask = UInt64(chunkBytes - 1)

    private var storage = ChunkStorage()

    /// An all-zero space.
    public init() {}

    private mutating func uniqueStorage() -> ChunkStorage {
        if !isKnownUniquelyReferenced(&storage) { storage = storage.copy() }
        return storage
    }

    /// Writes `bytes` at `address`.
    public mutating func write(_ bytes: [UInt8], at address: PhysicalAddress) {
        let address = address.rawValue
        let s = uniqueStorage()
        bytes.withUnsafeBytes { src in
            var done = 0
            while done < src.count {
                let a = address &+ UInt64(done)
                let n = Swift.min(Self.chunkBytes - Int(a & Self.chunkMask), src.count - done)
                s.writable(a).copyMemory(from: src.baseAddress! + done, byteCount: n)
                done += n
            }
        }
    }

    /// Reads `count` bytes at `address`.
    public func read(_ address: PhysicalAddress, count: Int) -> [UInt8] {
        let address = address.rawValue
        return [UInt8](unsafeUninitializedCapacity: count) { out, initialized in
            var done = 0
            while done < count {
                let a = address &+ UInt64(done)
                let n = Swift.min(Self.chunkBytes - Int(a & Self.chunkMask), count - done)
                let dst = UnsafeMutableRawPointer(out.baseAddress! + done)
                if let src = storage.peek(a) { dst.copyMemory(from: src, byteCount: n) } else { memset(dst, 0, n) }
                done += n
            }
            initialized = count
        }
    }

    /// `memcpy(to, from, count)` within the space (the regions do not overlap in swiotlb use;
    /// if they did, each piece is moved as `memmove` would).
    public mutating func copy(from source: PhysicalAddress, to destination: PhysicalAddress, count: Int) {
        guard count > 0 else { return }
        let source = source.rawValue, destination = destination.rawValue
        let s = uniqueStorage()
        var done = 0
        while done < count {
            let from = source &+ UInt64(done), to = destination &+ UInt64(done)
            let n = Swift.min(Self.chunkBytes - Int(from & Self.chunkMask), Self.chunkBytes - Int(to & Self.chunkMask), count - done)
            let dst = s.writable(to)
            if let src = s.readable(from) { memmove(dst, src, n) } else { memset(dst, 0, n) }
            done += n
        }
    }
}

/// The chunks of a ``PhysicalMemory``, owned by one value at a time (copied before a write
/// when shared).
private final class ChunkStorage: @unchecked Sendable {
    /// Chunk number (`address >> chunkShift`) → its zero-initialised bytes.
    private var chunks: [UInt64: UnsafeMutableRawPointer] = [:]
    /// Recent chunks, direct-mapped by the low bits of their number: a bounce copy touches a
    /// chunk of the pool and one of the buffer, and both areas are runs of consecutive chunk
    /// numbers, so they seldom evict each other. Plain memory (no exclusivity checks), as the
    /// cache is read on every copy.
    private static let cacheSlots = 256
    private let cachedNumbers: UnsafeMutablePointer<UInt64>
    private let cachedChunks: UnsafeMutablePointer<UnsafeMutableRawPointer?>

    init() {
        cachedNumbers = .allocate(capacity: Self.cacheSlots)
        cachedNumbers.initialize(repeating: .max, count: Self.cacheSlots)
        cachedChunks = .allocate(capacity: Self.cacheSlots)
        cachedChunks.initialize(repeating: nil, count: Self.cacheSlots)
    }

    deinit {
        for c in chunks.values { free(c) }
        cachedNumbers.deallocate()
        cachedChunks.deallocate()
    }

    func copy() -> ChunkStorage {
        let c = ChunkStorage()
        for (k, v) in chunks {
            let p = malloc(PhysicalMemory.chunkBytes)!
            p.copyMemory(from: v, byteCount: PhysicalMemory.chunkBytes)
            c.chunks[k] = p
        }
        return c
    }

    /// The cache slot of chunk `number`.
    @inline(__always)
    private static func cacheSlot(_ number: UInt64) -> Int { Int(truncatingIfNeeded: number) & (cacheSlots - 1) }

    @inline(__always)
    private func chunk(_ number: UInt64) -> UnsafeMutableRawPointer? {
        let slot = Self.cacheSlot(number)
        if cachedNumbers[slot] == number { return cachedChunks[slot] }
        guard let c = chunks[number] else { return nil }
        remember(c, number: number)
        return c
    }

    @inline(__always)
    private func remember(_ chunk: UnsafeMutableRawPointer, number: UInt64) {
        let slot = Self.cacheSlot(number)
        cachedNumbers[slot] = number
        cachedChunks[slot] = chunk
    }

    /// The bytes at `address` (to the end of its chunk), or nil when never written (zeros),
    /// without touching the cache: safe on storage that other values share.
    func peek(_ address: UInt64) -> UnsafeRawPointer? {
        chunks[address >> UInt64(PhysicalMemory.chunkShift)].map { UnsafeRawPointer($0 + Int(address & PhysicalMemory.chunkMask)) }
    }

    /// As ``peek(_:)``, through the cache: only on storage its value owns alone.
    @inline(__always)
    func readable(_ address: UInt64) -> UnsafeRawPointer? {
        chunk(address >> UInt64(PhysicalMemory.chunkShift)).map { UnsafeRawPointer($0 + Int(address & PhysicalMemory.chunkMask)) }
    }

    /// The bytes at `address` (to the end of its chunk), allocating a zeroed chunk if needed.
    @inline(__always)
    func writable(_ address: UInt64) -> UnsafeMutableRawPointer {
        let number = address >> UInt64(PhysicalMemory.chunkShift)
        let c: UnsafeMutableRawPointer
        if let existing = chunk(number) {
            c = existing
        } else {
            c = calloc(1, PhysicalMemory.chunkBytes)!
            chunks[number] = c
            remember(c, number: number)
        }
        return c + Int(address & PhysicalMemory.chunkMask)
    }
}
