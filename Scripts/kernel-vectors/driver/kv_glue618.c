/*
 * Compiles Linux 6.18's kernel/dma/swiotlb.c (extracted by ../build, never edited) in this
 * translation unit and wraps it for the trace driver (kv.h), as kv_glue.c does for 6.1. Built
 * twice: kv-replay618 without CONFIG_SWIOTLB_DYNAMIC, kv-replay618-dynamic with it (then
 * --grow-memory gives the memory of new pools, kshim_dynamic.h).
 *
 * 6.18 keeps per-device state with dynamic pools (the device's transient pools, and
 * dma_uses_io_tlb, without which an unmap finds no pool), so a device here lives for the whole
 * run, one per trace device name; each op sets its masks from the trace line first.
 */
#include "kernel/dma/swiotlb.c"

#include "kshim_escape.h"
#include "kv.h"
#include "kv_kernel_args.h"

#include <stdio.h>

#ifdef CONFIG_SWIOTLB_DYNAMIC
const char kv_kernel[] = "v6.18-dynamic";
#else
const char kv_kernel[] = "v6.18";
#endif

#define MAX_DEVICES 256

/* A device as the kernel keeps it, with the storage its pointers lead to. */
struct kv_kernel_device {
	char name[65];
	struct device dev;
	struct device_dma_parameters parms;
	u64 dma_mask;
};

static struct kv_kernel_device devices[MAX_DEVICES];
static unsigned int ndevices;

/* The kernel device named as `d` (made at its first op), its masks set from `d`. */
static struct device *kernel_device(const struct kv_device *d)
{
	struct kv_kernel_device *k = NULL;
	for (unsigned int i = 0; i < ndevices && !k; i++)
		if (!strcmp(devices[i].name, d->name))
			k = &devices[i];
	if (!k) {
		if (ndevices == MAX_DEVICES) {
			fprintf(stderr, "kv-replay: more than %d device names\n", MAX_DEVICES);
			exit(2);
		}
		k = &devices[ndevices++];
		snprintf(k->name, sizeof(k->name), "%s", d->name);
		k->dev.name = k->name;
		k->dev.dma_parms = &k->parms;
		k->dev.dma_mask = &k->dma_mask;
		swiotlb_dev_init(&k->dev);
	}
	k->parms.min_align_mask = d->min_align;
	k->parms.segment_boundary_mask = d->seg_mask;
	k->dma_mask = d->dma_mask;
	return &k->dev;
}

int kv_setup(const char *cmdline, uint64_t start, unsigned int possible_cpus)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%s", cmdline);
	kshim_possible_cpus = possible_cpus;
	kshim_pool_phys = start;
	if (setjmp(kshim_escape))
		return -1;
	setup_io_tlb_npages(buf);
	swiotlb_init_remap(true, 0, NULL);
	if (!io_tlb_default_mem.nslabs)
		return -1;
	return 0;
}

int kv_grow(uint64_t start, uint64_t end, uint64_t limit)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	if (kshim_grow_memory(start, end) != 0)
		return -1;
	io_tlb_default_mem.phys_limit = limit;
	return 0;
#else
	(void)start, (void)end, (void)limit;
	return -1;
#endif
}

/* The escape taken by the last call, as a result. */
static enum kv_result escaped(int how)
{
	return how == KSHIM_ESCAPE_HANG ? KV_HANG : KV_BUG;
}

enum kv_result kv_map(const struct kv_device *d, uint64_t orig, size_t size, size_t alloc,
		      unsigned int align_mask, enum kv_dir dir, unsigned int attrs, unsigned int cpu,
		      uint64_t *tlb)
{
	int how;

	(void)alloc; /* 6.18's map has no alloc_size */
	struct device *dev = kernel_device(d);
	kshim_cpu = cpu;
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	phys_addr_t r = swiotlb_tbl_map_single(dev, orig, size, align_mask, kernel_dir(dir),
					       kernel_attrs(attrs));
#ifdef CONFIG_SWIOTLB_DYNAMIC
	/* The worker a miss scheduled runs once the map is done, before the next op. */
	if (io_tlb_default_mem.dyn_alloc.pending) {
		io_tlb_default_mem.dyn_alloc.pending = false;
		io_tlb_default_mem.dyn_alloc.func(&io_tlb_default_mem.dyn_alloc);
	}
#endif
	if (r == (phys_addr_t)DMA_MAPPING_ERROR)
		return KV_FULL;
	*tlb = r;
	return KV_OK;
}

enum kv_result kv_unmap(const struct kv_device *d, uint64_t tlb, size_t size, size_t alloc,
			enum kv_dir dir, unsigned int attrs)
{
	int how;

	(void)alloc;
	struct device *dev = kernel_device(d);
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	swiotlb_tbl_unmap_single(dev, tlb, size, kernel_dir(dir), kernel_attrs(attrs));
	/* A grace period passes before the next op: a transient pool's memory is free again. */
	kshim_rcu_barrier();
	return KV_OK;
}

enum kv_result kv_sync(const struct kv_device *d, uint64_t tlb, size_t size, enum kv_dir dir,
		       int for_cpu)
{
	int how;

	struct device *dev = kernel_device(d);
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	if (for_cpu)
		swiotlb_sync_single_for_cpu(dev, tlb, size, kernel_dir(dir));
	else
		swiotlb_sync_single_for_device(dev, tlb, size, kernel_dir(dir));
	return KV_OK;
}

unsigned long kv_nslabs(void) { return io_tlb_default_mem.defpool.nslabs; }
unsigned int kv_nareas(void) { return io_tlb_default_mem.defpool.nareas; }
unsigned long kv_used(void) { return mem_used(&io_tlb_default_mem); }

void kv_area(unsigned int i, unsigned long *used, unsigned int *index)
{
	*used = io_tlb_default_mem.defpool.areas[i].used;
	*index = io_tlb_default_mem.defpool.areas[i].index;
}

unsigned int kv_slot_list(unsigned long slot) { return io_tlb_default_mem.defpool.slots[slot].list; }
unsigned long long kv_bounced_bytes(void) { return kshim_bounced_bytes; }

int kv_grown_pool(unsigned int i, uint64_t *start, unsigned long *nslabs, unsigned int *nareas,
		  unsigned long *used)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	/* The list is newest first, the default pool last: count from its end. */
	struct io_tlb_pool *pool;
	unsigned int n = 0;
	list_for_each_entry_rcu(pool, &io_tlb_default_mem.pools, node)
		n++;
	if (i + 1 >= n)
		return 0;
	unsigned int want = n - 2 - i, k = 0;
	list_for_each_entry_rcu(pool, &io_tlb_default_mem.pools, node) {
		if (k++ != want)
			continue;
		*start = pool->start;
		*nslabs = pool->nslabs;
		*nareas = pool->nareas;
		*used = 0;
		for (unsigned int a = 0; a < pool->nareas; a++)
			*used += pool->areas[a].used;
		return 1;
	}
#else
	(void)i, (void)start, (void)nslabs, (void)nareas, (void)used;
#endif
	return 0;
}

unsigned long kv_transient_nslabs(void)
{
#ifdef CONFIG_SWIOTLB_DYNAMIC
	return atomic_long_read(&io_tlb_default_mem.transient_nslabs);
#else
	return 0;
#endif
}

unsigned int kv_hang_area(void) { return 0; }

const char *kv_bug_site(int *line)
{
	*line = kshim_bug_line;
	return kshim_bug_file;
}
