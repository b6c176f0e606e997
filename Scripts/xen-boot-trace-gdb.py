"""gdb side of Scripts/xen-boot-trace: breakpoints on Xen's page allocator, one line per call.

Read by gdb attached to QEMU's gdbstub. Environment: XEN_SYMBOLS (Scripts/xen-symbols.py's output),
XEN_TRACE (the output file), XEN_TRACE_STOP (the function whose entry ends the trace). Lines:
  boot <pages> <align> -> <frame>         alloc_boot_pages
  init <frame> <pages>                    init_heap_pages (end_boot_allocator, freed modules)
  alloc o<order> bits<zone_hi+12> flags<memflags> -> <frame> | callers
  free <frame> o<order> | callers
Callers are the text addresses found on the stack (Xen has no frame pointers), innermost first."""
import bisect
import os
import struct

import gdb

SYMS = []
for line in open(os.environ['XEN_SYMBOLS']):
    a, n = line.split(None, 1)
    SYMS.append((int(a, 16), n.strip()))
SYMS.sort()
ADDRS = [s[0] for s in SYMS]
BY_NAME = {(n.split('#')[-1] if '#' in n else n[1:]): a for a, n in SYMS}  # type letter, or file#name
FRAME_TABLE = 0xffff82e000000000  # FRAMETABLE_VIRT_START, 32-byte page_info
TEXT = (BY_NAME['_stext'], BY_NAME['__init_end'])
OUT = open(os.environ['XEN_TRACE'], 'w')


def name_of(a):
    i = bisect.bisect_right(ADDRS, a) - 1
    return '%s+%x' % (SYMS[i][1], a - SYMS[i][0])


def reg(r):
    return int(gdb.parse_and_eval('$' + r)) & 0xffffffffffffffff


def callers():
    try:
        words = struct.unpack('<96Q', bytes(gdb.selected_inferior().read_memory(reg('rsp'), 8 * 96)))
    except gdb.MemoryError:
        return '?'
    found = [name_of(w) for w in words if TEXT[0] <= w < TEXT[1]]
    return ' < '.join(f for f in found if not f.endswith('+0'))[:600]


def frame(pg):
    return (pg - FRAME_TABLE) // 32


class Return(gdb.Breakpoint):
    """A one-shot breakpoint at a call's return address that writes the returned value."""

    def __init__(self, show):
        super().__init__('*0x%x' % struct.unpack('<Q', bytes(gdb.selected_inferior().read_memory(reg('rsp'), 8)))[0],
                         type=gdb.BP_HARDWARE_BREAKPOINT, internal=True, temporary=True)
        self.show = show

    def stop(self):
        OUT.write(' -> %s\n' % self.show(reg('rax')))
        OUT.flush()
        gdb.post_event(self.delete)
        return False


class Entry(gdb.Breakpoint):
    """A breakpoint at a function's entry that runs `fn`; gdb stops only when it returns True."""

    def __init__(self, name, fn):
        super().__init__('*0x%x' % BY_NAME[name], type=gdb.BP_HARDWARE_BREAKPOINT, internal=True)
        self.fn = fn

    def stop(self):
        return self.fn()


def on_boot():
    OUT.write('boot %#x %#x' % (reg('rdi'), reg('rsi')))
    Return(lambda v: '%#x' % v)
    return False


def on_alloc():
    OUT.write('alloc o%d bits%d flags%#x' % (reg('rdx') & 0xffffffff, (reg('rsi') & 0xffffffff) + 12, reg('rcx') & 0xffffffff))
    OUT.write(' | %s' % callers())
    Return(lambda v: '%#x' % frame(v) if v else 'NULL')
    return False


def on_free():
    OUT.write('free %#x o%d | %s\n' % (frame(reg('rdi')), reg('rsi') & 0xffffffff, callers()))
    return False


def on_init():
    OUT.write('init %#x %#x\n' % (frame(reg('rdi')), reg('rsi')))
    return False


def on_stop():
    OUT.write('stop %s\n' % os.environ['XEN_TRACE_STOP'])
    OUT.close()
    return True


Entry('alloc_boot_pages', on_boot)
Entry('alloc_heap_pages', on_alloc)
Entry('free_heap_pages', on_free)
Entry('init_heap_pages', on_init)
Entry(os.environ['XEN_TRACE_STOP'], on_stop)
