# Keeps the named structs of a BTF blob (records verbatim, member type ids as they were) with a
# string section holding only their names: a small real fixture for BTFLayout.
import struct, sys
src, dst = sys.argv[1], sys.argv[2]
want = set(sys.argv[3:])
b = open(src, 'rb').read()
magic, ver, flags, hlen, toff, tlen, soff, slen = struct.unpack_from('<HBBIIIII', b, 0)
types = b[hlen+toff:hlen+toff+tlen]; strs = b[hlen+soff:hlen+soff+slen]
def name(o): return strs[o:strs.index(b'\0', o)].decode()
extra = {1:4,14:4,17:4,3:12}
i=0; out=[]; newstr=bytearray(b'\0'); smap={0:0}
def s(o):
    if o not in smap: smap[o]=len(newstr); newstr.extend(name(o).encode()+b'\0')
    return smap[o]
found={}
while i < len(types):
    no, info, st = struct.unpack_from('<III', types, i); kind=(info>>24)&0x1f; vlen=info&0xffff
    n = 12 + (extra.get(kind) or (12*vlen if kind in (4,5,15,19) else 8*vlen if kind in (6,13) else 0))
    if kind == 4 and name(no) in want and name(no) not in found:
        found[name(no)] = 1
        rec = bytearray(types[i:i+n]); struct.pack_into('<I', rec, 0, s(no))
        for m in range(vlen):
            mo = struct.unpack_from('<I', rec, 12+12*m)[0]; struct.pack_into('<I', rec, 12+12*m, s(mo))
        out.append(bytes(rec))
    i += n
t = b''.join(out)
hdr = struct.pack('<HBBIIIII', magic, ver, flags, 24, 0, len(t), len(t), len(newstr))
open(dst,'wb').write(hdr + t + bytes(newstr))
print(sorted(found), len(hdr+t+newstr))
