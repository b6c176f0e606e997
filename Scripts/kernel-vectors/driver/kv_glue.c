/*
 * Compiles the kernel's own kernel/dma/swiotlb.c (extracted by ../build, never edited) in this
 * translation unit, so its static set-up functions can be called, and wraps its entry points
 * for the trace driver (kv.h). Each wrapper arms the shim's escape first: a BUG_ON or a search
 * that can never end comes back here as KV_BUG or KV_HANG.
 */
#include "kernel/dma/swiotlb.c"

#include "kshim_escape.h"
#include "kv.h"
#include "kv_kernel_args.h"

#include <stdio.h>

const char kv_kernel[] = "v6.1";

/* A kernel device for `d`, its parameters in `parms`. */
static void kernel_device(const struct kv_device *d, struct device *dev,
			  struct device_dma_parameters *parms)
{
	memset(parms, 0, sizeof(*parms));
	parms->min_align_mask = d->min_align;
	parms->segment_boundary_mask = d->seg_mask;
	memset(dev, 0, sizeof(*dev));
	dev->name = d->name;
	dev->dma_parms = parms;
	dev->dma_io_tlb_mem = &io_tlb_default_mem;
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
	kshim_step_limit = io_tlb_default_mem.area_nslabs;
	return 0;
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
	struct device dev;
	struct device_dma_parameters parms;
	int how;

	kernel_device(d, &dev, &parms);
	kshim_cpu = cpu;
	unsigned long invalid_before = kshim_warn_once_reached;
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	phys_addr_t r = swiotlb_tbl_map_single(&dev, orig, size, alloc, align_mask,
					       kernel_dir(dir), kernel_attrs(attrs));
	if (r == (phys_addr_t)DMA_MAPPING_ERROR)
		return kshim_warn_once_reached != invalid_before ? KV_INVALID_SIZE : KV_FULL;
	*tlb = r;
	return KV_OK;
}

enum kv_result kv_unmap(const struct kv_device *d, uint64_t tlb, size_t size, size_t alloc,
			enum kv_dir dir, unsigned int attrs)
{
	struct device dev;
	struct device_dma_parameters parms;
	int how;

	(void)alloc; /* 6.1 reads the size from the slot */
	kernel_device(d, &dev, &parms);
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	swiotlb_tbl_unmap_single(&dev, tlb, size, kernel_dir(dir), kernel_attrs(attrs));
	return KV_OK;
}

enum kv_result kv_sync(const struct kv_device *d, uint64_t tlb, size_t size, enum kv_dir dir,
		       int for_cpu)
{
	struct device dev;
	struct device_dma_parameters parms;
	int how;

	kernel_device(d, &dev, &parms);
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	if (for_cpu)
		swiotlb_sync_single_for_cpu(&dev, tlb, size, kernel_dir(dir));
	else
		swiotlb_sync_single_for_device(&dev, tlb, size, kernel_dir(dir));
	return KV_OK;
}

unsigned long kv_nslabs(void) { return io_tlb_default_mem.nslabs; }
unsigned int kv_nareas(void) { return io_tlb_default_mem.nareas; }
unsigned long kv_used(void) { return mem_used(&io_tlb_default_mem); }

void kv_area(unsigned int i, unsigned long *used, unsigned int *index)
{
	*used = io_tlb_default_mem.areas[i].used;
	*index = io_tlb_default_mem.areas[i].index;
}

unsigned int kv_slot_list(unsigned long slot) { return io_tlb_default_mem.slots[slot].list; }
unsigned long long kv_bounced_bytes(void) { return kshim_bounced_bytes; }

unsigned int kv_hang_area(void)
{
	for (unsigned int i = 0; i < io_tlb_default_mem.nareas; i++)
		if (&io_tlb_default_mem.areas[i].lock == kshim_last_lock)
			return i;
	return 0;
}

const char *kv_bug_site(int *line)
{
	*line = kshim_bug_line;
	return kshim_bug_file;
}
