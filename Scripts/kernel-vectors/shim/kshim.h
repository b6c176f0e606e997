/*
 * Userspace stand-ins for the kernel interfaces that kernel/dma/swiotlb.c and
 * include/linux/swiotlb.h use (Linux 6.1, and 5.11), so that those two files compile
 * unmodified into the harness.
 * Every <linux/...>, <asm/...> and <trace/...> header they include is a one-line file made by
 * ../build that includes this one. Written for this project from the kernel's documented
 * behaviour; no kernel text.
 *
 * What the harness controls (see kshim.c):
 *   - the CPU a map runs on (raw_smp_processor_id), the possible CPUs (num_possible_cpus);
 *   - where the pool lives: memblock_alloc_low hands out memory whose physical address is the
 *     trace's `start`; phys_to_virt maps the pool onto it and every other address onto a
 *     scratch window, so the kernel's bounce copies run for real;
 *   - kernel messages: printk/dev_* lines go to stderr as "<level>: [<device>: ]<text>";
 *   - escapes: BUG_ON and a search that can never end (the 6.1 hang) leave the kernel code by
 *     longjmp to the driver instead of aborting or spinning.
 */
#ifndef KSHIM_H
#define KSHIM_H

#include <stdint.h>
#include <stddef.h>
#include <stdbool.h>
#include <string.h>
#include <ctype.h>
#include <stdlib.h>
#include <errno.h>

/* ---- types ---- */
typedef uint8_t u8;
typedef uint16_t u16;
typedef uint32_t u32;
typedef uint64_t u64;
typedef int64_t s64;
typedef u64 phys_addr_t;
typedef u64 dma_addr_t;
typedef unsigned int gfp_t;

struct page;
struct dentry;
/* A doubly linked list node, as <linux/list.h>'s. */
struct list_head { struct list_head *next, *prev; };
struct scatterlist;
struct io_tlb_mem;

#define BITS_PER_LONG 64
#ifndef ULONG_MAX
#define ULONG_MAX (~0UL)
#endif
#ifndef U32_MAX
#define U32_MAX 0xffffffffU
#endif
#ifndef SIZE_MAX
#define SIZE_MAX (~(size_t)0)
#endif
#define SZ_1M 0x00100000

/* ---- compiler and section annotations ---- */
#define __init
#define __maybe_unused __attribute__((unused))
#define likely(x) __builtin_expect(!!(x), 1)
#define unlikely(x) __builtin_expect(!!(x), 0)
#define EXPORT_SYMBOL(sym)
#define EXPORT_SYMBOL_GPL(sym)
#define early_param(name, fn)
#define late_initcall(fn)

/* ---- arithmetic helpers, with the kernel's semantics ---- */
/* ALIGN rounds with the mask (a - 1): for an `a` that is not a power of two it does not round
 * up to a multiple of `a` (the 6.1 stride-3 case depends on this). */
#define ALIGN(x, a) (((x) + ((__typeof__(x))(a) - 1)) & ~((__typeof__(x))(a) - 1))
#define DIV_ROUND_UP(n, d) (((n) + (d) - 1) / (d))
#define rounddown(x, y) ((x) - ((x) % (y)))
#define roundup(x, y) ((((x) + ((y) - 1)) / (y)) * (y))
#define max(a, b) ((a) > (b) ? (a) : (b))
#define min(a, b) ((a) < (b) ? (a) : (b))
#define min_t(type, a, b) ((type)(a) < (type)(b) ? (type)(a) : (type)(b))
#define max_t(type, a, b) ((type)(a) > (type)(b) ? (type)(a) : (type)(b))
#define array_size(a, b) ((size_t)(a) * (size_t)(b))

static inline bool is_power_of_2(unsigned long n) { return n != 0 && (n & (n - 1)) == 0; }

/* The smallest power of two >= n (n >= 1). */
static inline unsigned long roundup_pow_of_two(unsigned long n)
{
	return n <= 1 ? 1UL : 1UL << (BITS_PER_LONG - __builtin_clzl(n - 1));
}

/* ---- pages ---- */
#define PAGE_SHIFT 12
#define PAGE_SIZE (1UL << PAGE_SHIFT)
#define PAGE_MASK (~(PAGE_SIZE - 1))
#define PAGE_ALIGN(x) ALIGN((x), PAGE_SIZE)
#define SMP_CACHE_BYTES 64
#define PFN_DOWN(x) ((unsigned long)((x) >> PAGE_SHIFT))
#define PHYS_PFN(x) PFN_DOWN(x)
/* No struct page exists: a page "pointer" carries its frame number, and no page is highmem. */
#define pfn_to_page(pfn) ((struct page *)(uintptr_t)(pfn))
#define page_to_phys(page) ((phys_addr_t)(uintptr_t)(page) << PAGE_SHIFT)
#define PageHighMem(page) ((void)(page), 0)

static inline int get_order(unsigned long size)
{
	int order = 0;
	size = (size - 1) >> PAGE_SHIFT;
	while (size) { order++; size >>= 1; }
	return order;
}

/* ---- memory: the pool at the trace's start, everything else in a scratch window ---- */
/* swiotlb.c copies only in swiotlb_bounce: every copy there is counted (--count-bytes). */
extern unsigned long long kshim_bounced_bytes;
static inline void *kshim_memcpy(void *dst, const void *src, size_t n)
{
	kshim_bounced_bytes += n;
	return memmove(dst, src, n); /* a trace's buffer may overlap the pool */
}
void *kshim_phys_to_virt(phys_addr_t p);
phys_addr_t kshim_virt_to_phys(const void *v);
void *kshim_memblock_alloc(size_t size, size_t align, bool pool);
#define phys_to_virt(p) kshim_phys_to_virt(p)
#define virt_to_phys(v) kshim_virt_to_phys(v)
#define __pa(v) kshim_virt_to_phys(v)
#define memblock_alloc(size, align) kshim_memblock_alloc((size), (align), false)
#define memblock_alloc_low(size, align) kshim_memblock_alloc((size), (align), true)
#define memblock_free(p, size) ((void)(p), (void)(size))
#define memblock_free_late(p, size) ((void)(p), (void)(size))
#define memblock_free_early(p, size) ((void)(p), (void)(size))
#define GFP_DMA 4u
#define GFP_KERNEL 0u
#define __GFP_ZERO 1u
#define __GFP_NOWARN 2u
/* Late initialisation (swiotlb_init_late) is not used by the harness: no pages to give. */
/* __get_free_pages: heap memory (6.18's dynamic pools keep their slot arrays there); the
 * memory of new pools comes from alloc_pages (kshim_dynamic.h). */
unsigned long kshim_get_free_pages(unsigned int order);
#define __get_free_pages(gfp, order) ((void)(gfp), kshim_get_free_pages(order))
#define free_pages(addr, order) ((void)(order), free((void *)(addr)))
#define set_memory_decrypted(addr, n) ((void)(addr), (void)(n), 0)
#define set_memory_encrypted(addr, n) ((void)(addr), (void)(n), 0)
#define MEMREMAP_WB 1
#define memremap(p, size, flags) ((void)(p), (void)(size), (void)(flags), (void *)0)
#define memcpy_from_page(dst, page, off, len) kshim_memcpy((dst), (char *)kshim_phys_to_virt(page_to_phys(page)) + (off), (len))
#define memcpy_to_page(page, off, src, len) kshim_memcpy((char *)kshim_phys_to_virt(page_to_phys(page)) + (off), (src), (len))
#define kmsan_unpoison_memory(p, n) ((void)(p), (void)(n))
#define kmap_atomic(page) ((char *)kshim_phys_to_virt(page_to_phys(page)))
#define kunmap_atomic(addr) ((void)(addr))
#define local_irq_save(flags) ((flags) = 0)
#define local_irq_restore(flags) ((void)(flags))

/* ---- confidential computing: none ---- */
enum cc_attr { CC_ATTR_MEM_ENCRYPT };
#define cc_platform_has(attr) ((void)(attr), false)
#define mem_encrypt_active() false

/* ---- CPUs ---- */
extern unsigned int kshim_cpu;
extern unsigned int kshim_possible_cpus;
#define raw_smp_processor_id() (kshim_cpu)
#define num_possible_cpus() (kshim_possible_cpus)

/* ---- escapes ---- */
_Noreturn void kshim_bug(const char *file, int line);
/* panic() (v5.11 set-up and map without a pool) escapes like BUG. */
#define panic(fmt, ...) kshim_bug(__FILE__, __LINE__)
#define BUG() kshim_bug(__FILE__, __LINE__)
#define BUG_ON(cond) do { if (cond) kshim_bug(__FILE__, __LINE__); } while (0)

/* ---- locks: the harness is single-threaded; taking an area lock starts a new search ---- */
typedef struct { int held; } spinlock_t;
void kshim_lock(spinlock_t *lock);
#define spin_lock_init(l) ((l)->held = 0)
#define DEFINE_SPINLOCK(name) spinlock_t name = { 0 }
#define spin_lock_irqsave(l, flags) do { (flags) = 0; kshim_lock(l); } while (0)
#define spin_unlock_irqrestore(l, flags) do { (void)(flags); (l)->held = 0; } while (0)

/*
 * Called once per candidate slot that passed the alignment test, so at least once per turn of
 * any cycle the 6.1 search loop can enter. A search that ends sees at most area_nslabs such
 * calls (its indexes are distinct); more means it would never end.
 */
void kshim_search_step(void);

/* ---- string parsing ---- */
#define simple_strtoul(s, endp, base) strtoul((s), (endp), (base))

/* ---- messages ---- */
#ifndef pr_fmt
#define pr_fmt(fmt) fmt
#endif
struct device;
void kshim_printk(const char *level, const struct device *dev, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
#define pr_info(fmt, ...) kshim_printk("info", NULL, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn(fmt, ...) kshim_printk("warn", NULL, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_err(fmt, ...) kshim_printk("err", NULL, pr_fmt(fmt), ##__VA_ARGS__)
#define pr_warn_once(fmt, ...) do { static bool done_; if (!done_) { done_ = true; pr_warn(fmt, ##__VA_ARGS__); } } while (0)
/* Rate limiting is not modelled: a trace has no clock. */
#define dev_warn_ratelimited(dev, fmt, ...) kshim_printk("warn", dev, fmt, ##__VA_ARGS__)
#define dev_err(dev, fmt, ...) kshim_printk("err", dev, fmt, ##__VA_ARGS__)
#define dev_warn(dev, fmt, ...) kshim_printk("warn", dev, fmt, ##__VA_ARGS__)
#define printk_ratelimit() 1
/* Counts every arrival (the driver tells an invalid-size refusal by it), prints the first. */
extern unsigned long kshim_warn_once_reached;
#define dev_warn_once(dev, fmt, ...) do { static bool done_; kshim_warn_once_reached++; \
	if (!done_) { done_ = true; kshim_printk("warn", dev, fmt, ##__VA_ARGS__); } } while (0)
#define dev_WARN_ONCE(dev, cond, fmt, ...) ({ static bool done_; bool c_ = !!(cond); \
	if (c_ && !done_) { done_ = true; kshim_printk("WARNING", dev, fmt, ##__VA_ARGS__); } c_; })

/* ---- debugfs and tracepoints: nothing to create ---- */
#define DEFINE_DEBUGFS_ATTRIBUTE(name, get, set, fmt) \
	static int (*const name)(void *, u64 *) __maybe_unused = (get)
#define debugfs_create_dir(name, parent) ((void)(name), (void)(parent), (struct dentry *)0)
#define debugfs_create_ulong(name, mode, parent, value) ((void)(value))
#define debugfs_create_file(name, mode, parent, data, fops) ((void)(data), (struct dentry *)0)
#define trace_swiotlb_bounced(...) ((void)0)

/* ---- DMA API ---- */
enum dma_data_direction { DMA_BIDIRECTIONAL = 0, DMA_TO_DEVICE = 1, DMA_FROM_DEVICE = 2, DMA_NONE = 3 };
#define DMA_MAPPING_ERROR (~(dma_addr_t)0)
#define DMA_ATTR_SKIP_CPU_SYNC (1UL << 5)
#define DMA_ATTR_NO_WARN (1UL << 8)

/* The parts of a device that swiotlb reads: its name, parameters and allocator. */
struct device_dma_parameters {
	unsigned int max_segment_size;
	unsigned int min_align_mask;
	unsigned long segment_boundary_mask;
};

struct device {
	const char *name;
	struct device_dma_parameters *dma_parms;
	struct io_tlb_mem *dma_io_tlb_mem;
	u64 *dma_mask;
	u64 bus_dma_limit;
	/* 6.18 with CONFIG_SWIOTLB_DYNAMIC: the device's transient pools. */
	struct list_head dma_io_tlb_pools;
	spinlock_t dma_io_tlb_lock;
	bool dma_uses_io_tlb;
};

/* A segment boundary mask of 0 means "not set", as in the kernel. */
static inline unsigned long dma_get_seg_boundary(struct device *dev)
{
	if (dev->dma_parms && dev->dma_parms->segment_boundary_mask)
		return dev->dma_parms->segment_boundary_mask;
	return ULONG_MAX;
}

static inline unsigned int dma_get_min_align_mask(struct device *dev)
{
	return dev->dma_parms ? dev->dma_parms->min_align_mask : 0;
}

/* Bus addresses equal physical ones (no DMA offset, no encryption bit). */
#define phys_to_dma(dev, p) ((void)(dev), (dma_addr_t)(p))
#define phys_to_dma_unencrypted(dev, p) ((void)(dev), (dma_addr_t)(p))
#define dma_capable(dev, addr, size, is_ram) ((void)(dev), (void)(addr), (void)(size), (void)(is_ram), true)
#define dev_is_dma_coherent(dev) ((void)(dev), true)
#define arch_sync_dma_for_device(p, size, dir) ((void)(p), (void)(size), (void)(dir))

/* Whether slots [shift + index, + nr) cross a boundary_size-slot boundary (a power of two). */
static inline int iommu_is_span_boundary(unsigned int index, unsigned int nr,
					 unsigned long shift, unsigned long boundary_size)
{
	kshim_search_step();
	BUG_ON(!is_power_of_2(boundary_size));
	unsigned long first = (shift + index) & (boundary_size - 1);
	return first + nr > boundary_size;
}

#include "kshim_dynamic.h"

/* Last, so that the shim's own code above keeps the C library's memcpy. */
#define memcpy(dst, src, n) kshim_memcpy((dst), (src), (n))

#endif /* KSHIM_H */
