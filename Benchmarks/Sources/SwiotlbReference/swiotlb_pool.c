#include "swiotlb_pool.h"
#include <stdlib.h>

int pool_init(struct pool *p, int nslabs, uint64_t start, uint64_t seg_mask)
{
    int i;

    p->nslabs = nslabs;
    p->index = 0;
    p->used = 0;
    p->list = malloc(sizeof(*p->list) * nslabs);
    p->orig = malloc(sizeof(*p->orig) * nslabs);
    if (!p->list || !p->orig) {
        pool_destroy(p);
        return -1;
    }
    for (i = 0; i < nslabs; i++) {
        p->list[i] = SEGMENT - (i & (SEGMENT - 1));
        p->orig[i] = ~0ULL;
    }
    /* dma_get_seg_boundary seen from the pool's DMA address, as v5.11 computes it. */
    p->offset_slots = ((start & seg_mask) + (1 << SLOT_SHIFT) - 1) >> SLOT_SHIFT;
    p->max_slots = seg_mask + 1 ? ((seg_mask + 1) + (1 << SLOT_SHIFT) - 1) >> SLOT_SHIFT
                                : 1ULL << (64 - SLOT_SHIFT);
    return 0;
}

void pool_destroy(struct pool *p)
{
    free(p->list);
    free(p->orig);
    p->list = NULL;
    p->orig = NULL;
}

/* v5.11 swiotlb_tbl_map_single's search and take; -1 when full. */
int pool_alloc(struct pool *p, int nslots, int stride)
{
    int index, wrap, i, count;

    if (nslots > p->nslabs - p->used)
        return -1;
    index = (p->index + stride - 1) / stride * stride;
    if (index >= p->nslabs)
        index = 0;
    wrap = index;
    do {
        while (((p->offset_slots + index) & (p->max_slots - 1)) + nslots > p->max_slots) {
            index += stride;
            if (index >= p->nslabs)
                index = 0;
            if (index == wrap)
                return -1;
        }
        if (p->list[index] >= (unsigned int)nslots) {
            count = 0;
            for (i = index; i < index + nslots; i++)
                p->list[i] = 0;
            for (i = index - 1; i >= 0 && (i & (SEGMENT - 1)) != SEGMENT - 1 && p->list[i]; i--)
                p->list[i] = ++count;
            p->index = index + nslots < p->nslabs ? index + nslots : 0;
            p->used += nslots;
            return index;
        }
        index += stride;
        if (index >= p->nslabs)
            index = 0;
    } while (index != wrap);
    return -1;
}

/* v5.11 swiotlb_tbl_unmap_single's release with merging. */
void pool_free(struct pool *p, int index, int nslots)
{
    int i, segment_end = (index + SEGMENT) & ~(SEGMENT - 1);
    unsigned int count = index + nslots < segment_end ? p->list[index + nslots] : 0;

    for (i = index + nslots - 1; i >= index; i--) {
        p->list[i] = ++count;
        p->orig[i] = ~0ULL;
    }
    for (i = index - 1; i >= 0 && (i & (SEGMENT - 1)) != SEGMENT - 1 && p->list[i]; i--)
        p->list[i] = ++count;
    p->used -= nslots;
}

