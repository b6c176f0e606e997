/* Linux v5.11's swiotlb slot search, take and release on one pool: the part of the C reference
 * that both the workload run and the replay reference use. */
#ifndef SWIOTLB_POOL_H
#define SWIOTLB_POOL_H
#include <stdint.h>

#define SLOT_SHIFT 11
#define SEGMENT 128

/* io_tlb_list, io_tlb_orig_addr, io_tlb_index and io_tlb_used of one pool, and the device's
 * segment boundary seen from the pool (offset and size in slots). */
struct pool {
    unsigned int *list;
    uint64_t *orig;
    int nslabs, index, used;
    uint64_t offset_slots, max_slots;
};

/* Allocates the tables of a fresh pool of `nslabs` slots at `start` for a device whose segment
 * boundary mask is `seg_mask`; 0, or -1 when memory could not be allocated. */
int pool_init(struct pool *p, int nslabs, uint64_t start, uint64_t seg_mask);

/* Frees the tables. */
void pool_destroy(struct pool *p);

/* v5.11 swiotlb_tbl_map_single's search and take; the first slot, or -1 when full. */
int pool_alloc(struct pool *p, int nslots, int stride);

/* v5.11 swiotlb_tbl_unmap_single's release with merging. */
void pool_free(struct pool *p, int index, int nslots);

#endif
