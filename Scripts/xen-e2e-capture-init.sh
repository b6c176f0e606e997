#!/bin/sh
# /init of the capture shapes (Scripts/xen-e2e-capture): arms `xenpv swiotlb capture` before any
# storage driver is loaded, runs O_DIRECT reads and writes of mixed sizes on the NVMe and virtio
# disks from both CPUs, stops the capture with SIGINT, times the same I/O without it, checks the
# replay and writes the results as a tar stream to the last virtio disk.
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug; mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /tmp/out; cd /tmp/out
mods="crct10dif_common crc-t10dif crc64 crc64-rocksoft t10-pi nvme-core nvme virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk"
now_ms() { read up _ < /proc/uptime; echo "${up%.*}${up#*.}0"; }
alive() { while sleep 10; do echo "@@ALIVE $1"; done; }
alive capture & ticker=$!

armed() { i=0; while [ "$(cat /sys/kernel/tracing/instances/xenpv/tracing_on 2>/dev/null)" != 1 ] && [ $i -lt 600 ]; do usleep 100000; i=$((i+1)); done; }
echo "@@ERR notroot $(su -s /bin/sh nobody -c 'xenpv swiotlb capture --seconds 1' 2>&1 | tail -1)"
xenpv swiotlb capture --output /tmp/out/capture.txt --raw /tmp/out/raw.txt 2> /tmp/out/capture.err & cap=$!
armed
echo "@@ARMED after $i polls"
echo "@@ERR second $(xenpv swiotlb capture --seconds 1 2>&1 | tail -1)"
cat /sys/kernel/debug/kprobes/list > /tmp/out/kprobes-list.txt 2>&1
for m in $mods; do insmod /lib/modules/$m.ko; done
i=0; while { [ ! -b /dev/nvme0n1 ] || [ ! -b /dev/vda ]; } && [ $i -lt 300 ]; do usleep 100000; i=$((i+1)); done

# The workload: per CPU, reads and writes of 512 B to 1 MiB on both disks (the vCPU's own half).
work() {   # work <cpu> <rounds>
  for r in $(seq 1 $2); do
    for bs in 512 4096 65536 131072 1048576; do
      for d in nvme0n1 vda; do
        taskset -c $1 dd if=/dev/$d of=/dev/null bs=$bs count=4 skip=$(( $1 * 16 + r )) iflag=direct 2>/dev/null
        taskset -c $1 dd if=/dev/zero of=/dev/$d bs=$bs count=2 seek=$(( $1 * 16 + r + 4 )) oflag=direct 2>/dev/null
      done
    done
  done
}
t0=$(now_ms); work 0 4 & w0=$!; work 1 4 & w1=$!; wait $w0 $w1; t1=$(now_ms)
kill -INT $cap; wait $cap; echo "@@RC capture $?"
# A capture killed with SIGKILL cannot clean up: the next one names what it left and how to remove it.
xenpv swiotlb capture --output /tmp/killed.txt 2>/dev/null & k=$!
armed; kill -KILL $k; wait $k
left=$(xenpv swiotlb capture --seconds 1 2>&1 | tail -1)
echo "@@ERR killed $left"
eval "${left##*remove them: }"
echo 1 > /proc/sys/debug/kprobes-optimization
# The same I/O with the probes gone.
t2=$(now_ms); work 0 4 & w0=$!; work 1 4 & w1=$!; wait $w0 $w1; t3=$(now_ms)
echo "workload-ms captured=$((t1 - t0)) uncaptured=$((t3 - t2))" > /tmp/out/cost.txt
cat /tmp/out/cost.txt
echo "@@BEGIN capture-err"; cat /tmp/out/capture.err; echo "@@END capture-err"
grep -c '^map ' /tmp/out/capture.txt > /tmp/out/maps.txt
xenpv swiotlb replay --kernel v6.1 --check /tmp/out/capture.txt > /tmp/out/check.txt 2>&1; echo "rc=$?" >> /tmp/out/check.txt
echo "@@BEGIN check"; cat /tmp/out/check.txt; echo "@@END check"
grep xenpv /sys/kernel/tracing/kprobe_events > /tmp/out/left.txt; ls /sys/kernel/tracing/instances >> /tmp/out/left.txt
echo "@@BEGIN left"; cat /tmp/out/left.txt; echo "@@END left"
dmesg > /tmp/out/dmesg.txt; uname -a > /tmp/out/uname.txt
kill $ticker
last=$(ls /dev/vd? | tail -1)
tar -cf "$last" -C /tmp/out . && sync
echo "@@DONE"
echo 0 > /proc/sys/kernel/sysrq 2>/dev/null
dd if=/dev/zero of=/dev/port bs=1 seek=244 count=1 2>/dev/null || reboot -f
