#!/usr/bin/env python3
"""Prints the function and data symbols of a stripped Xen image from the symbol table Xen carries
for its own backtraces (xen/tools/symbols.c: symbols_offsets, symbols_num_syms, symbols_names
compressed with symbols_token_table / symbols_token_index), one 'address name' line each, the
address being XEN_VIRT_START-based as in Xen's own backtraces.

Usage: Scripts/xen-symbols.py XEN_ELF [BASE]   (XEN_ELF: the uncompressed image, e.g.
`zcat /boot/xen-4.17-amd64.gz > xen`; BASE: the virtual address of offset 0, default
0xffff82d040000000, x86-64's XEN_VIRT_START)."""
import struct
import sys


def token_table(d):
    """(index offset, table offset, tokens): 256 increasing u16 offsets into 256 NUL-ended tokens."""
    for p in range(0, len(d) - 512, 2):
        if d[p] or d[p + 1]:
            continue
        idx = struct.unpack_from('<256H', d, p)
        if not 0 < idx[1] <= 20 or not all(0 < idx[i + 1] - idx[i] < 40 for i in range(255)):
            continue
        for pad in range(16):
            for last in range(1, 40):
                s = p - pad - (idx[255] + last + 1)
                if s < 0:
                    continue
                t = d[s:s + idx[255] + last + 1]
                if t[-1] == 0 and all(t[idx[i] - 1] == 0 for i in range(1, 256)):
                    return p, s, [t[idx[i]:t.index(0, idx[i])] for i in range(256)]
    sys.exit('xen-symbols: no symbols_token_table in this image')


def names(d, table_start):
    """(names offset, count, markers offset): the compressed names before the 256-symbol markers."""
    for pad in range(8):
        end = table_start - pad
        for m in range(1, 400):
            ms = end - 4 * m
            mk = struct.unpack_from('<%dI' % m, d, ms)
            if mk[0] != 0 or any(mk[i] >= mk[i + 1] for i in range(m - 1)):
                continue
            for ns in range(ms - 4, max(0, ms - 4_000_000), -1):
                n = struct.unpack_from('<I', d, ns)[0]
                if (n + 255) // 256 != m:
                    continue
                q, offs = ns + 4, []
                while len(offs) < n and q < ms:
                    offs.append(q - ns - 4)
                    q += d[q] + 1
                if len(offs) == n and ms - 8 <= q <= ms and all(offs[256 * j] == mk[j] for j in range(m)):
                    return ns, n
    sys.exit('xen-symbols: no symbols_names in this image')


def main():
    if len(sys.argv) not in (2, 3):
        sys.exit(__doc__)
    d = open(sys.argv[1], 'rb').read()[:64 << 20]
    base = int(sys.argv[2], 0) if len(sys.argv) == 3 else 0xffff82d040000000
    _, table_start, tokens = token_table(d)
    ns, n = names(d, table_start)
    offsets = struct.unpack_from('<%dI' % n, d, ns - 4 * n)
    q = ns + 4
    for i in range(n):
        length = d[q]
        name = b''.join(tokens[c] for c in d[q + 1:q + 1 + length]).decode('latin1')
        q += length + 1
        print('%x %s' % (base + offsets[i], name))


main()
