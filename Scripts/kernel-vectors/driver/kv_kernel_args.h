/*
 * The trace driver's direction and attributes in the kernel's own terms. Included by each glue
 * after the kernel's swiotlb.c, so that the constants are that kernel's.
 */
#ifndef KV_KERNEL_ARGS_H
#define KV_KERNEL_ARGS_H

#include "kv.h"

static enum dma_data_direction kernel_dir(enum kv_dir d)
{
	switch (d) {
	case KV_TO_DEVICE: return DMA_TO_DEVICE;
	case KV_FROM_DEVICE: return DMA_FROM_DEVICE;
	case KV_NONE: return DMA_NONE;
	default: return DMA_BIDIRECTIONAL;
	}
}

static unsigned long kernel_attrs(unsigned int a)
{
	return ((a & KV_ATTR_SKIP_CPU_SYNC) ? DMA_ATTR_SKIP_CPU_SYNC : 0) |
	       ((a & KV_ATTR_NO_WARN) ? DMA_ATTR_NO_WARN : 0);
}

#endif
