#!/bin/sh
# /init of the capture shapes (Scripts/xen-e2e-capture): arms `xenpv swiotlb capture` before any
# storage driver is loaded, runs O_DIRECT reads and writes of mixed sizes on the NVMe and virtio
# disks from both CPUs, stops the capture with SIGINT, times the same I/O without it and writes
# the results as a tar stream to the last virtio disk (the host replays the capture).
mount -t proc proc /proc; mount -t sysfs sys /sys; mount -t devtmpfs dev /dev
mount -t debugfs debugfs /sys/kernel/debug; mount -t tracefs tracefs /sys/kernel/tracing
mkdir -p /tmp/out; cd /tmp/out
mods="crct10dif_common crc-t10dif crc64 crc64-rocksoft t10-pi nvme-core nvme virtio_ring virtio virtio_pci_legacy_dev virtio_pci_modern_dev virtio_pci virtio_blk"
now_ms() { read up _ < /proc/uptime; echo "${up%.*}${up#*.}0"; }
mark() { read up _ < /proc/uptime; echo "@@T $1 $up"; }   # where the guest's time goes
mark init
alive() { while sleep 10; do echo "@@ALIVE $1"; done; }
alive capture & ticker=$!

armed() { i=0; while [ "$(cat /sys/kernel/tracing/instances/xenpv/tracing_on 2>/dev/null)" != 1 ] && [ $i -lt 600 ]; do usleep 100000; i=$((i+1)); done; }
echo "@@ERR notroot $(su -s /bin/sh nobody -c 'xenpv swiotlb capture --seconds 1' 2>&1 | tail -1)"
xenpv swiotlb capture --output /tmp/out/capture.txt 2> /tmp/out/capture.err & cap=$!
armed
echo "@@ARMED after $i polls"
mark armed
echo "@@ERR second $(xenpv swiotlb capture --seconds 1 2>&1 | tail -1)"
cat /sys/kernel/debug/kprobes/list > /tmp/out/kprobes-list.txt 2>&1
for m in $mods; do insmod /lib/modules/$m.ko; done
mark insmod
i=0; while { [ ! -b /dev/nvme0n1 ] || [ ! -b /dev/vda ]; } && [ $i -lt 300 ]; do usleep 100000; i=$((i+1)); done

# The workload, one round: per CPU, reads and writes of 512 B to 1 MiB on both disks (each vCPU
# its own part of each disk).
work() {   # work <cpu> <round>
  for bs in 512 4096 65536 131072 1048576; do
    for d in nvme0n1 vda; do
      taskset -c $1 dd if=/dev/$d of=/dev/null bs=$bs count=4 skip=$(( $1 * 16 + $2 )) iflag=direct 2>/dev/null
      taskset -c $1 dd if=/dev/zero of=/dev/$d bs=$bs count=2 seek=$(( $1 * 16 + $2 + 4 )) oflag=direct 2>/dev/null
    done
  done
}
rounds() {   # rounds <first> <last>: both CPUs at once, round by round
  for r in $(seq $1 $2); do work 0 $r & w0=$!; work 1 $r & w1=$!; wait $w0 $w1; done
}
# Rounds until the capture has seen 11,000 maps (the map probe's hits): a round's maps vary
# from run to run with how the pages of dd's buffers lie (2,900 to 5,700 seen).
map_hits() { awk '$1 == "map" { h = $2 } END { print h + 0 }' /sys/kernel/tracing/kprobe_profile; }
t0=$(now_ms); n=0
while [ $n -lt 10 ] && [ "$(map_hits)" -lt 11000 ]; do n=$((n + 1)); rounds $n $n; done
t1=$(now_ms)
echo "@@ROUNDS $n"
mark captured-io
kill -INT $cap; wait $cap; echo "@@RC capture $?"
mark saved
# A capture killed with SIGKILL cannot clean up: the next one names what it left and how to remove it.
xenpv swiotlb capture --output /tmp/killed.txt 2>/dev/null & k=$!
armed; kill -KILL $k; wait $k
left=$(xenpv swiotlb capture --seconds 1 2>&1 | tail -1)
echo "@@ERR killed $left"
eval "${left##*remove them: }"
echo 1 > /proc/sys/debug/kprobes-optimization
mark killed-check
# The same I/O with the probes gone.
t2=$(now_ms); rounds 1 $n; t3=$(now_ms)
mark uncaptured-io
echo "workload-ms captured=$((t1 - t0)) uncaptured=$((t3 - t2)) rounds=$n" > /tmp/out/cost.txt
cat /tmp/out/cost.txt
echo "@@BEGIN capture-err"; cat /tmp/out/capture.err; echo "@@END capture-err"
grep xenpv /sys/kernel/tracing/kprobe_events > /tmp/out/left.txt; ls /sys/kernel/tracing/instances >> /tmp/out/left.txt
echo "@@BEGIN left"; cat /tmp/out/left.txt; echo "@@END left"
dmesg > /tmp/out/dmesg.txt; uname -a > /tmp/out/uname.txt
kill $ticker
last=$(ls /dev/vd? | tail -1)
tar -cf "$last" -C /tmp/out . && sync
mark done
echo "@@DONE"
echo 0 > /proc/sys/kernel/sysrq 2>/dev/null
dd if=/dev/zero of=/dev/port bs=1 seek=244 count=1 2>/dev/null || reboot -f
