/// What Xen 4.17 reads of dom0's kernel image to size its boot module (`bzimage_headroom`,
/// `xen/arch/x86/bzimage.c`; `__start_xen`'s module relocation, `xen/arch/x86/setup.c`): a
/// bzImage gets room before it for its decompressed kernel, and Xen moves it, that room
/// included, directly below the initrd it relocated first. The module's frames are given back to
/// the heap once dom0 is built, so where they lie shapes the heap dom0's exchanges draw from.
public struct BzImage: Sendable, Equatable {
    /// The file's size in bytes (the module's `mod_end` as the boot loader gives it).
    public var fileBytes: UInt64
    /// The compressed payload's size (`payload_length`); 0 for an ELF image.
    public var payloadBytes: UInt64
    /// The decompressed kernel's size: the payload's last four bytes, little-endian; 0 for an
    /// ELF image.
    public var decompressedBytes: UInt64
    /// Whether the payload is gzip (`1f 8b` or `1f 9e`), whose headroom Xen reckons differently.
    public var isGzip: Bool

    /// The bytes of the file's start the setup header needs (through `payload_length`).
    public static let headerBytes = 0x250

    /// The boot image's start (`header` at 0x1f1 of the real-mode part): an ELF kernel (Xen
    /// loads it as is, no headroom) or a bzImage whose payload lies at `payload`.
    public enum Layout: Sendable, Equatable {
        /// An ELF `vmlinux`.
        case elf
        /// A bzImage; the payload's bytes in the file.
        case bzImage(payload: Range<UInt64>)
    }

    /// Reads the setup header in the file's first ``headerBytes`` bytes (fewer for a short file).
    /// A file that is neither an ELF image nor a bzImage of boot protocol 2.08 or later (Xen's
    /// `bzimage_check`), or whose payload does not lie within the file, is an error.
    public static func layout(header: [UInt8], fileBytes: UInt64) throws(BzImageError) -> Layout {
        if header.starts(with: [0x7f, 0x45, 0x4c, 0x46]) { return .elf }
        guard header.count >= headerBytes else { throw .notAKernel("shorter than a bzImage setup header (\(headerBytes) bytes)") }
        guard header[0x202..<0x206].elementsEqual(Array("HdrS".utf8)) else { throw .notAKernel("no 'HdrS' at 0x202 and no ELF header") }
        let version = little(header, 0x206, 2)
        guard version >= 0x208 else {
            let minor = version & 0xff
            throw .notAKernel("boot protocol \(version >> 8).\(minor < 10 ? "0" : "")\(minor): Xen needs 2.08 or later")
        }
        let start = (little(header, 0x1f1, 1) + 1) * 512 + little(header, 0x248, 4)
        let length = little(header, 0x24c, 4)
        guard length >= 4, start + length <= fileBytes else {
            throw .notAKernel("its payload (\(length) bytes at \(start)) does not lie within its \(fileBytes) bytes")
        }
        return .bzImage(payload: start..<(start + length))
    }

    /// An ELF image of `fileBytes` bytes.
    public init(elfBytes fileBytes: UInt64) {
        self.fileBytes = fileBytes; payloadBytes = 0; decompressedBytes = 0; isGzip = false
    }

    /// A bzImage: its size, the payload's place (``layout(header:fileBytes:)``), and the
    /// payload's first two and last four bytes.
    public init(fileBytes: UInt64, payload: Range<UInt64>, payloadHead: [UInt8], payloadTail: [UInt8]) throws(BzImageError) {
        guard payloadHead.count >= 2, payloadTail.count == 4 else { throw .notAKernel("its payload's first 2 and last 4 bytes could not be read") }
        self.fileBytes = fileBytes
        payloadBytes = UInt64(payload.count)
        decompressedBytes = Self.little(payloadTail, 0, 4)
        isGzip = payloadHead[0] == 0x1f && (payloadHead[1] == 0x8b || payloadHead[1] == 0x9e)
    }

    /// `bzimage_headroom`: the decompressed size plus gzip's 8 bytes a 32 KiB block and 32 KiB
    /// + 18, or plus the payload's own size for other compressions, rounded up to a page; 0 for
    /// an ELF image.
    public var xenHeadroomBytes: UInt64 {
        guard payloadBytes > 0 else { return 0 }
        let raw = isGzip ? decompressedBytes + (decompressedBytes >> 12) + 32768 + 18 : decompressedBytes + payloadBytes
        return (raw + 0xfff) & ~0xfff
    }

    /// The frames of the relocated module: `PAGE_ALIGN(headroom + mod_end)`.
    public var xenModulePages: UInt64 { (xenHeadroomBytes + fileBytes + 0xfff) >> Page.shift }

    /// The module's frames when Xen placed it directly below the initrd, as `__start_xen` does
    /// when both fit in the RAM entry it relocates them to. Nil when it does not fit there.
    public func xenModuleFrames(belowInitrd initrd: Range<MFN>, e820: HostE820) -> Range<MFN>? {
        let pages = xenModulePages, rd = initrd.lowerBound.rawValue
        guard pages <= rd, e820.ramFrames.contains(where: { $0.lowerBound.rawValue <= rd - pages && rd <= $0.upperBound.rawValue }) else { return nil }
        return MFN(rd - pages)..<initrd.lowerBound
    }

    static func little(_ bytes: [UInt8], _ at: Int, _ count: Int) -> UInt64 {
        (0..<count).reduce(UInt64(0)) { $0 | UInt64(bytes[at + $1]) << (8 * UInt64($1)) }
    }
}

/// Why a file is not a kernel image Xen can boot as dom0.
public enum BzImageError: Error, Sendable, Equatable, CustomStringConvertible {
    /// Not an ELF image or a usable bzImage: why.
    case notAKernel(String)

    /// One line.
    public var description: String {
        switch self {
        case .notAKernel(let why): return "not a kernel image Xen 4.17 boots: \(why)"
        }
    }
}
