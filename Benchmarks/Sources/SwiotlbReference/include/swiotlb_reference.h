/* A plain C model of Linux v5.11's swiotlb slot allocator, the issue-10 workload and a trace
 * replayer: the yardsticks xenpv is measured against (same machine, same run, same choices). */
#ifndef SWIOTLB_REFERENCE_H
#define SWIOTLB_REFERENCE_H
#include <stdint.h>

/* What one workload run did. */
struct swiotlb_ref_result {
    uint64_t maps, unmaps, full;   /* operations */
    uint64_t slot_checksum;        /* order-sensitive hash of every slot chosen (or -1 for full) */
    uint64_t bytes_copied;         /* bytes the unmaps copy back (or would, without move_bytes) */
};

/* One operation of a run drawn in advance: a map of `arg` slots with `stride` (1 or 2) for the
 * original address `orig`, or, when `stride` is 0, the unmap of live mapping number `arg` (the
 * live table kept as the run keeps it: appended to, the last moved into a hole). */
struct swiotlb_ref_op {
    uint64_t orig;
    int32_t arg;
    int32_t stride;
};

/* Runs `ops` operations of the workload from `seed` on a pool of `nslabs` slots at `start`.
 * With `move_bytes`, unmaps of FROM_DEVICE/BIDIRECTIONAL mappings copy the bytes back with
 * memcpy between a pool buffer and a buffer for the original pages. When `drawn` is not NULL
 * each operation is also written there, as it was drawn (`ops` entries). Returns 0, or -1 when
 * memory could not be allocated. */
int swiotlb_ref_run(uint64_t ops, uint64_t seed, int nslabs, uint64_t start, int move_bytes,
                    struct swiotlb_ref_result *out, struct swiotlb_ref_op *drawn);

/* Runs `count` operations drawn in advance (by swiotlb_ref_run) on a fresh pool: the allocator
 * and the live table alone, no random draws, no bytes. Returns 0, or -1 when memory could not
 * be allocated. */
int swiotlb_ref_run_drawn(const struct swiotlb_ref_op *ops, uint64_t count, int nslabs, uint64_t start,
                          struct swiotlb_ref_result *out);

/* Replays a one-pool trace of `pool`, `map` and `unmap` lines (docs/trace-format.md, v5.11)
 * through a plain fgets/strtok parser and the same allocator, writing what `xenpv swiotlb
 * replay` writes (a result line per map or unmap, then the final and checksum lines) to
 * `output_path`. Returns the number of maps and unmaps, or -1 on a file it cannot open or a line
 * it does not replay (named on stderr). */
long swiotlb_ref_replay(const char *trace_path, const char *output_path);

#endif
