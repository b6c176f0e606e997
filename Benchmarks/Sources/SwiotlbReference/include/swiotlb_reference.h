/* A plain C model of Linux v5.11's swiotlb slot allocator and the issue-10 workload, the
 * yardstick the Swift allocator is measured against (same machine, same run, same choices). */
#ifndef SWIOTLB_REFERENCE_H
#define SWIOTLB_REFERENCE_H
#include <stdint.h>

/* What one workload run did. */
struct swiotlb_ref_result {
    uint64_t maps, unmaps, full;   /* operations */
    uint64_t slot_checksum;        /* order-sensitive hash of every slot chosen (or -1 for full) */
    uint64_t bytes_copied;         /* bytes the unmaps copy back (or would, without move_bytes) */
};

/* Runs `ops` operations of the workload from `seed` on a pool of `nslabs` slots at `start`.
 * With `move_bytes`, unmaps of FROM_DEVICE/BIDIRECTIONAL mappings copy the bytes back with
 * memcpy between a pool buffer and a buffer for the original pages. Returns 0, or -1 when
 * memory could not be allocated. */
int swiotlb_ref_run(uint64_t ops, uint64_t seed, int nslabs, uint64_t start, int move_bytes,
                    struct swiotlb_ref_result *out);

#endif
