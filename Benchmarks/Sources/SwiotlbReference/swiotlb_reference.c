#include "swiotlb_reference.h"
#include "swiotlb_pool.h"
#include <stdlib.h>
#include <string.h>

#define ORIG_BASE 0x100000000ULL
#define ORIG_SPAN (256ULL << 20)

static uint64_t splitmix64(uint64_t *state)
{
    uint64_t z = (*state += 0x9e3779b97f4a7c15ULL);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
    return z ^ (z >> 31);
}

struct mapping { int slot, nslots, size, dir; uint64_t orig; };

/* One map of a run: find and take `nslots` slots, count the map (and a full pool), hash the slot
 * into `*h`, and record the original address of each slot taken. Returns the slot, or -1. */
static int run_map(struct pool *p, int nslots, int stride, uint64_t orig, struct swiotlb_ref_result *out, uint64_t *h)
{
    int slot = pool_alloc(p, nslots, stride), i;

    out->maps++;
    *h = (*h ^ (uint64_t)(int64_t)slot) * 0x100000001b3ULL;
    if (slot < 0) {
        out->full++;
        return -1;
    }
    for (i = 0; i < nslots; i++)
        p->orig[slot + i] = orig + ((uint64_t)i << SLOT_SHIFT);
    return slot;
}

int swiotlb_ref_run(uint64_t ops, uint64_t seed, int nslabs, uint64_t start, int move_bytes,
                    struct swiotlb_ref_result *out, struct swiotlb_ref_op *drawn)
{
    static const int sizes[6] = { 512, 1500, 2048, 4096, 8192, 65536 };
    struct pool p = { 0 };
    struct mapping *live;
    unsigned char *pool_bytes = NULL, *orig_bytes = NULL;
    uint64_t rng = seed, op, h = 0xcbf29ce484222325ULL;
    int nlive = 0, rc = -1;

    memset(out, 0, sizeof(*out));
    live = malloc(sizeof(*live) * nslabs);
    if (move_bytes) {
        pool_bytes = calloc(1, (size_t)nslabs << SLOT_SHIFT);
        orig_bytes = calloc(1, ORIG_SPAN);
    }
    /* The PCI device's default segment boundary: 4 GiB. */
    if (pool_init(&p, nslabs, start, 0xffffffffULL) || !live || (move_bytes && (!pool_bytes || !orig_bytes)))
        goto out;

    for (op = 0; op < ops; op++) {
        uint64_t r = splitmix64(&rng);
        int want_map = p.used < nslabs / 2 ? (r % 100) < 75 : (r % 100) < 25;
        if (nlive == 0 || want_map) {
            int size = sizes[splitmix64(&rng) % 6];
            int dir = (int)(splitmix64(&rng) % 3);   /* to_device, from_device, bidirectional */
            uint64_t orig = ORIG_BASE + ((splitmix64(&rng) % (ORIG_SPAN - 65536)) & ~63ULL);
            int nslots = (size + (1 << SLOT_SHIFT) - 1) >> SLOT_SHIFT;
            int stride = size >= 4096 ? 2 : 1;
            int slot = run_map(&p, nslots, stride, orig, out, &h);
            if (drawn)
                drawn[op] = (struct swiotlb_ref_op){ orig, nslots, stride };
            if (slot < 0)
                continue;
            live[nlive++] = (struct mapping){ slot, nslots, size, dir, orig };
            /* DMA_ATTR_SKIP_CPU_SYNC: the map copies nothing. */
        } else {
            int k = (int)(splitmix64(&rng) % (uint64_t)nlive);
            struct mapping m = live[k];
            if (drawn)
                drawn[op] = (struct swiotlb_ref_op){ 0, k, 0 };
            live[k] = live[--nlive];
            if (m.dir != 0 && p.orig[m.slot] != ~0ULL) {
                if (move_bytes)
                    memcpy(orig_bytes + (p.orig[m.slot] - ORIG_BASE), pool_bytes + ((size_t)m.slot << SLOT_SHIFT), m.size);
                out->bytes_copied += m.size;
            }
            pool_free(&p, m.slot, m.nslots);
            out->unmaps++;
        }
    }
    out->slot_checksum = h;
    rc = 0;
out:
    pool_destroy(&p);
    free(live);
    free(pool_bytes);
    free(orig_bytes);
    return rc;
}

int swiotlb_ref_run_drawn(const struct swiotlb_ref_op *ops, uint64_t count, int nslabs, uint64_t start,
                          struct swiotlb_ref_result *out)
{
    struct pool p = { 0 };
    struct { int slot, nslots; } *live = malloc(sizeof(*live) * nslabs);
    uint64_t op, h = 0xcbf29ce484222325ULL;
    int nlive = 0;

    memset(out, 0, sizeof(*out));
    if (!live || pool_init(&p, nslabs, start, 0xffffffffULL)) {
        free(live);
        return -1;
    }
    for (op = 0; op < count; op++) {
        const struct swiotlb_ref_op *o = &ops[op];
        if (o->stride != 0) {
            int slot = run_map(&p, o->arg, o->stride, o->orig, out, &h);
            if (slot < 0)
                continue;
            live[nlive].slot = slot;
            live[nlive++].nslots = o->arg;
        } else {
            int k = o->arg;
            int slot = live[k].slot, nslots = live[k].nslots;
            live[k] = live[--nlive];
            pool_free(&p, slot, nslots);
            out->unmaps++;
        }
    }
    out->slot_checksum = h;
    pool_destroy(&p);
    free(live);
    return 0;
}
