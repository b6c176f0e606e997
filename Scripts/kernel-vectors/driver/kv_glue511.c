/*
 * kv.h for Linux 5.11: compiles that kernel's own kernel/dma/swiotlb.c (extracted by ../build,
 * never edited) in this translation unit and wraps set-up (setup_io_tlb_npages, swiotlb_init),
 * swiotlb_tbl_map_single, swiotlb_tbl_unmap_single and swiotlb_tbl_sync_single. 5.11 has one
 * pool, one lock and one cursor: no areas, CPUs, min_align or align.
 */
#include "kernel/dma/swiotlb.c"

#include "kshim_escape.h"
#include "kv.h"
#include "kv_kernel_args.h"

#include <stdio.h>

const char kv_kernel[] = "v5.11";

/* A kernel device for `d`, its parameters in `parms`. */
static void kernel_device(const struct kv_device *d, struct device *dev,
			  struct device_dma_parameters *parms)
{
	memset(parms, 0, sizeof(*parms));
	parms->segment_boundary_mask = d->seg_mask;
	memset(dev, 0, sizeof(*dev));
	dev->name = d->name;
	dev->dma_parms = parms;
}

/* The escape taken by the last call, as a result. */
static enum kv_result escaped(int how)
{
	return how == KSHIM_ESCAPE_HANG ? KV_HANG : KV_BUG;
}

int kv_setup(const char *cmdline, uint64_t start, unsigned int possible_cpus)
{
	char buf[64];
	(void)possible_cpus;
	snprintf(buf, sizeof(buf), "%s", cmdline);
	kshim_pool_phys = start;
	if (setjmp(kshim_escape))
		return -1;
	setup_io_tlb_npages(buf);
	swiotlb_init(0);
	return no_iotlb_memory ? -1 : 0;
}

enum kv_result kv_map(const struct kv_device *d, uint64_t orig, size_t size, size_t alloc,
		      unsigned int align_mask, enum kv_dir dir, unsigned int attrs, unsigned int cpu,
		      uint64_t *tlb)
{
	struct device dev;
	struct device_dma_parameters parms;
	int how;

	(void)align_mask;
	(void)cpu;
	kernel_device(d, &dev, &parms);
	unsigned long invalid_before = kshim_warn_once_reached;
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	phys_addr_t r = swiotlb_tbl_map_single(&dev, orig, size, alloc, kernel_dir(dir),
					       kernel_attrs(attrs));
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

	kernel_device(d, &dev, &parms);
	if ((how = setjmp(kshim_escape)))
		return escaped(how);
	swiotlb_tbl_unmap_single(&dev, tlb, size, alloc, kernel_dir(dir), kernel_attrs(attrs));
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
	swiotlb_tbl_sync_single(&dev, tlb, size, kernel_dir(dir), for_cpu ? SYNC_FOR_CPU : SYNC_FOR_DEVICE);
	return KV_OK;
}

unsigned long kv_nslabs(void) { return io_tlb_nslabs; }
unsigned int kv_nareas(void) { return 1; }
unsigned long kv_used(void) { return io_tlb_used; }

void kv_area(unsigned int i, unsigned long *used, unsigned int *index)
{
	(void)i;
	*used = io_tlb_used;
	*index = io_tlb_index;
}

unsigned int kv_slot_list(unsigned long slot) { return io_tlb_list[slot]; }
unsigned long long kv_bounced_bytes(void) { return kshim_bounced_bytes; }
unsigned int kv_hang_area(void) { return 0; }

const char *kv_bug_site(int *line)
{
	*line = kshim_bug_line;
	return kshim_bug_file;
}
