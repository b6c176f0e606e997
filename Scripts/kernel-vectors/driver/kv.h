/*
 * The harness's view of a kernel's allocator: kv_glue.c (Linux 6.1) or kv_glue511.c (5.11)
 * compiles that kernel's kernel/dma/swiotlb.c unmodified into the same translation unit, sets
 * up the default pool the way `swiotlb=<N>[,<A>]` does, then maps, unmaps and syncs through the
 * kernel's own functions. No kernel type appears here, so the trace driver stays plain C.
 */
#ifndef KV_H
#define KV_H

#include <stddef.h>
#include <stdint.h>

/* The outcome of one call into the kernel. */
enum kv_result {
	KV_OK,
	KV_FULL,         /* DMA_MAPPING_ERROR after the search found nothing */
	KV_INVALID_SIZE, /* DMA_MAPPING_ERROR: mapping size > alloc size */
	KV_HANG,         /* the slot search would loop forever (6.1.192's unbounded do/while) */
	KV_BUG,          /* a BUG_ON fired */
};

/* DMA directions and attributes, as the trace names them. */
enum kv_dir { KV_BIDIRECTIONAL, KV_TO_DEVICE, KV_FROM_DEVICE, KV_NONE };
#define KV_ATTR_SKIP_CPU_SYNC 1u
#define KV_ATTR_NO_WARN 2u

/* A device as the trace describes it (fresh for every op: the kernel keeps nothing per device). */
struct kv_device {
	const char *name;         /* for messages */
	unsigned int min_align;   /* dma_get_min_align_mask() */
	uint64_t seg_mask;        /* dma_parms->segment_boundary_mask; 0 = unset (all ones) */
	uint64_t dma_mask;        /* *dev->dma_mask (6.18's transient pools stay under it) */
};

/* "v6.1", "v5.11", "v6.18" or "v6.18-dynamic": which glue the driver is linked with. */
extern const char kv_kernel[];

/*
 * Parses `cmdline` with the kernel's swiotlb= parser (setup_io_tlb_npages) and builds the
 * default pool with swiotlb_init_remap, its memory at physical `start`; `possible_cpus` is
 * num_possible_cpus() (used when cmdline gives no area count). Returns 0, or -1 when the kernel
 * made no pool.
 */
int kv_setup(const char *cmdline, uint64_t start, unsigned int possible_cpus);

/* swiotlb_tbl_map_single on CPU `cpu` (v5.11: align_mask, cpu and min_align must be 0);
 * *tlb gets the returned address on KV_OK. */
enum kv_result kv_map(const struct kv_device *dev, uint64_t orig, size_t size, size_t alloc,
		      unsigned int align_mask, enum kv_dir dir, unsigned int attrs, unsigned int cpu,
		      uint64_t *tlb);
/* swiotlb_tbl_unmap_single (`alloc` is passed on by v5.11, which has no per-slot size). */
enum kv_result kv_unmap(const struct kv_device *dev, uint64_t tlb, size_t size, size_t alloc,
			enum kv_dir dir, unsigned int attrs);
/* swiotlb_sync_single_for_cpu (for_cpu != 0) or _for_device. */
enum kv_result kv_sync(const struct kv_device *dev, uint64_t tlb, size_t size, enum kv_dir dir,
		       int for_cpu);

/* The pool as the kernel left it. */
unsigned long kv_nslabs(void);
unsigned int kv_nareas(void);               /* 1 on v5.11 */
unsigned long kv_used(void);                 /* mem_used(): the debugfs io_tlb_used */
void kv_area(unsigned int i, unsigned long *used, unsigned int *index); /* v5.11: io_tlb_used, io_tlb_index */
unsigned int kv_slot_list(unsigned long slot); /* slots[slot].list */
unsigned long long kv_bounced_bytes(void);   /* bytes swiotlb_bounce copied, all runs */

/* 6.18 with CONFIG_SWIOTLB_DYNAMIC only (kv_glue618.c; weak, absent from the other glues):
 * new pools take their memory from [start, end) with the worker's pools under `limit`
 * (phys_limit); 0, or -1 when refused. */
int kv_grow(uint64_t start, uint64_t end, uint64_t limit) __attribute__((weak));
/* The i-th pool the worker added, oldest first: 1 and its fields, or 0 past the last. */
int kv_grown_pool(unsigned int i, uint64_t *start, unsigned long *nslabs, unsigned int *nareas,
		  unsigned long *used) __attribute__((weak));
/* debugfs io_tlb_transient_nslabs. */
unsigned long kv_transient_nslabs(void) __attribute__((weak));

/* After KV_HANG: the area whose search hung. After KV_BUG: where it fired. */
unsigned int kv_hang_area(void);
const char *kv_bug_site(int *line);

#endif
