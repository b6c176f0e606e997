#!/bin/sh
# dom0's /init for Scripts/capture-host-folder: collects a capture folder the way
# shared/fixtures/real-xen-default was collected (its NOTES.md), in the same order (dom0's own
# P2M is read before xenstored and xl run), and writes it to the virtio disk as a tar stream.
# Every file ends with a line `rc=<status>` of the command that wrote it, as in the fixture; the
# dumps do not. The console shows each step between `@@BEGIN <file> :: <command>` and `@@END`.
export PATH=/bin:/sbin:/usr/bin:/usr/sbin
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug 2>/dev/null
mark() { echo "@@MARK $1 uptime=$(cut -d' ' -f1 /proc/uptime)"; }
mark DOM0_INIT_START
mode=$(sed -n 's/.*xq\.mode=\([a-z0-9]*\).*/\1/p' /proc/cmdline)
mark "MODE=$mode"
# The fixture's modules in its order; virtio_pci's own dependencies (virtio_ring, virtio and the
# two virtio_pci_*_dev libraries, modules in Debian's 6.1) right before it.
for m in xen-privcmd xenfs xen-evtchn xen-gntdev xen-gntalloc virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk; do
  insmod "/lib/modules/$m.ko" || echo "@@INSMOD-FAILED $m"
done
mount -t xenfs xenfs /proc/xen
mark MODULES_LOADED
mkdir -p /out
# run FILE COMMAND...: the command's output and status into /out/FILE, shown on the console.
run() {
  n=$1; shift
  echo "@@BEGIN $n :: $*"
  "$@" > "/out/$n" 2>&1; rc=$?
  echo "rc=$rc" >> "/out/$n"
  cat "/out/$n"
  echo "@@END $n rc=$rc"
}
each() { for f in "$@"; do [ -f "$f" ] && echo "$f: $(cat "$f")"; done; }
run cmdline.txt cat /proc/cmdline
run hypervisor.txt sh -c 'for f in /sys/hypervisor/type /sys/hypervisor/uuid /sys/hypervisor/version/* /sys/hypervisor/compilation/* /sys/hypervisor/properties/* /proc/xen/capabilities; do [ -f $f ] && echo "$f: $(cat $f)"; done'
run swiotlb-debugfs.txt sh -c 'ls -la /sys/kernel/debug/swiotlb; for f in /sys/kernel/debug/swiotlb/*; do echo "$f: $(cat $f)"; done'
run iomem.txt cat /proc/iomem
run meminfo.txt cat /proc/meminfo
run firmware-memmap.txt sh -c 'for d in /sys/firmware/memmap/*; do echo "$d $(cat $d/start) $(cat $d/end) $(cat $d/type)"; done'
run pci.txt sh -c 'cat /proc/bus/pci/devices; for d in /sys/bus/pci/devices/*; do echo "$d $(cat $d/vendor) $(cat $d/device) $(cat $d/class) dma_mask_bits=$(cat $d/dma_mask_bits 2>/dev/null) driver=$(basename $(readlink $d/driver) 2>/dev/null)"; done'
run dma-devs.txt sh -c 'ls -la /sys/block; cat /proc/partitions'
mark BASIC_INFO_DONE
run dump-p2m-0.txt xen-mfndump dump-p2m 0
mark BEFORE_DUMP_M2P
echo "@@BEGIN dump-m2p.txt :: xen-mfndump dump-m2p"
xen-mfndump dump-m2p > /out/dump-m2p.txt 2> /out/dump-m2p.txt.stderr; rc=$?
echo "lines=$(wc -l < /out/dump-m2p.txt) rc=$rc"
echo "@@END dump-m2p.txt rc=$rc"
mark AFTER_DUMP_M2P
# dom0's own P2M through its page tables (DOMID_SELF): xenpv's dump-p2m lines turned into the
# fixture's `pfn raw_entry` list.
echo "@@BEGIN dom0-p2m.txt :: xenpv dump p2m 0"
xenpv dump p2m 0 > /tmp/dump-p2m-self.txt 2> /out/dom0-p2m.txt.stderr; rc=$?
{ echo "# pfn raw_p2m_entry (hex); ~0=INVALID, bit62=IDENTITY, bit63=FOREIGN"
  sed -n 's/^  pfn=0x\([0-9a-f]*\) ==> mfn=0x\([0-9a-f]*\) .*/\1 \2/p' /tmp/dump-p2m-self.txt; } > /out/dom0-p2m.txt
head -2 /tmp/dump-p2m-self.txt
echo "lines=$(wc -l < /out/dom0-p2m.txt) rc=$rc"
echo "@@END dom0-p2m.txt rc=$rc"
rm -f /tmp/dump-p2m-self.txt
mark PROBE_DONE
mkdir -p /var/lib/xenstored /var/run/xenstored /run/xen /var/log/xen /var/lib/xen
run xenstored-start.txt sh -c 'xenstored --pid-file=/run/xenstored.pid; sleep 3; ps | grep -v grep | grep xenstored'
run xen-init-dom0.txt xen-init-dom0
run xl-info.txt xl info
run xl-list.txt xl list
run xl-dmesg.txt xl dmesg
run xl-info-n.txt xl info -n
mark XL_DONE
# The fixture's DMA sample: the disk read while io_tlb_used is sampled.
run swiotlb-dma-samples.txt sh -c 'dd if=/dev/vda of=/dev/null bs=64k count=192 & for i in 0 1 2 3 4; do echo "sample $i io_tlb_used=$(cat /sys/kernel/debug/swiotlb/io_tlb_used)"; done; wait'
run swiotlb-debugfs-after.txt sh -c 'for f in /sys/kernel/debug/swiotlb/*; do echo "$f: $(cat $f)"; done'
run dom0-dmesg.txt dmesg
mark COLLECT_DONE
echo "@@BEGIN outdisk"
(cd /out && tar -cf - .) | dd of=/dev/vda bs=64k conv=fsync 2>&1
sync
echo "tar written to /dev/vda"
echo "@@END outdisk"
mark ALL_DONE
# isa-debug-exit (port 0xf4) ends QEMU; a reboot (QEMU runs with -no-reboot) if that fails.
dd if=/dev/zero of=/dev/port bs=1 seek=244 count=1 2>/dev/null || reboot -f
reboot -f
