/*
 * The kernel interfaces that Linux 6.18's swiotlb.c adds over 6.1's, in userspace: lists and
 * RCU (single-threaded: plain lists, callbacks run at once), the pool-growth work item, atomic
 * counters, and the page allocator its dynamic pools (CONFIG_SWIOTLB_DYNAMIC) take memory from.
 * Included by kshim.h. Written for this project; no kernel text.
 *
 * The page allocator follows the rule docs/trace-format.md gives the model's
 * DynamicPoolMemory, so that the kernel and xenpv get the same blocks: alloc_pages(order)
 * returns the lowest free block of 2^order pages aligned to its own size inside the range the
 * driver gave (--grow-memory), or NULL; __free_pages gives a block back. GFP zone flags choose
 * nothing, and CONFIG_ZONE_DMA/ZONE_DMA32 are off (IS_ENABLED gives 0), so a block that ends
 * above the pool's limit fails the allocation as the model's rule says (with the zones on, the
 * kernel would retry in a lower zone, where the lowest block is no lower).
 */
#ifndef KSHIM_DYNAMIC_H
#define KSHIM_DYNAMIC_H

/* ---- configuration tests, as <linux/kconfig.h> spells them (options defined as 1) ---- */
#define KSHIM_PLACEHOLDER_1 0,
#define KSHIM_TAKE_SECOND(ignored, val, ...) val
#define KSHIM_IS_DEFINED3(arg1_or_junk) KSHIM_TAKE_SECOND(arg1_or_junk 1, 0, 0)
#define KSHIM_IS_DEFINED2(val) KSHIM_IS_DEFINED3(KSHIM_PLACEHOLDER_##val)
#define IS_ENABLED(option) KSHIM_IS_DEFINED2(option)

/* ---- containers, lists, RCU ---- */
#define container_of(ptr, type, member) ((type *)((char *)(ptr) - offsetof(type, member)))
#define LIST_HEAD_INIT(name) { &(name), &(name) }
static inline void INIT_LIST_HEAD(struct list_head *l) { l->next = l; l->prev = l; }
static inline void list_add_rcu(struct list_head *n, struct list_head *head)
{
	n->next = head->next;
	n->prev = head;
	head->next->prev = n;
	head->next = n;
}
static inline void list_del_rcu(struct list_head *n)
{
	n->prev->next = n->next;
	n->next->prev = n->prev;
}
#define list_entry(ptr, type, member) container_of(ptr, type, member)
#define list_for_each_entry_rcu(pos, head, member) \
	for (pos = list_entry((head)->next, __typeof__(*pos), member); &pos->member != (head); \
	     pos = list_entry(pos->member.next, __typeof__(*pos), member))
struct rcu_head { void (*func)(struct rcu_head *); };
#define rcu_read_lock() ((void)0)
#define rcu_read_unlock() ((void)0)
/* The callback waits for a grace period, as in the kernel (swiotlb_del_transient still reads
 * the pool after call_rcu): kshim_rcu_barrier, which the driver calls after every op, runs it. */
void kshim_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *));
void kshim_rcu_barrier(void);
#define call_rcu(head, fn) kshim_call_rcu((head), (fn))
#define WRITE_ONCE(x, v) ((x) = (v))
#define READ_ONCE(x) (x)
#define smp_mb() ((void)0)
#define smp_rmb() ((void)0)

/* ---- locks without irqsave (io_tlb_mem.lock) ---- */
#define __SPIN_LOCK_UNLOCKED(name) { 0 }
#define spin_lock(l) ((l)->held = 1)
#define spin_unlock(l) ((l)->held = 0)

/* ---- the growth worker: schedule_work marks it; the driver runs it after the map ---- */
struct work_struct {
	void (*func)(struct work_struct *);
	bool pending;
};
#define __WORK_INITIALIZER(name, fn) { .func = (fn), .pending = false }
#define schedule_work(w) ((w)->pending = true)

/* ---- atomics (single-threaded) ---- */
typedef struct { long counter; } atomic_long_t;
#define atomic_long_read(v) ((v)->counter)
#define atomic_long_set(v, i) ((v)->counter = (long)(i))
#define atomic_long_add(i, v) ((v)->counter += (long)(i))
#define atomic_long_sub(i, v) ((v)->counter -= (long)(i))
#define atomic_long_add_return(i, v) ((v)->counter += (long)(i))
static inline bool atomic_long_try_cmpxchg(atomic_long_t *v, unsigned long *old, unsigned long n)
{
	if ((unsigned long)v->counter == *old) {
		v->counter = (long)n;
		return true;
	}
	*old = (unsigned long)v->counter;
	return false;
}

/* ---- errors as pointers ---- */
#define MAX_ERRNO 4095
#define ERR_PTR(e) ((void *)(long)(e))
#define IS_ERR(p) ((unsigned long)(void *)(p) >= (unsigned long)-MAX_ERRNO)

/* ---- the page allocator of dynamic pools ---- */
#define MAX_PAGE_ORDER 10 /* x86 */
#define PFN_UP(x) (((x) + PAGE_SIZE - 1) >> PAGE_SHIFT)
#define DMA_BIT_MASK(n) (((n) == 64) ? ~0ULL : ((1ULL << (n)) - 1))
#define ARCH_LOW_ADDRESS_LIMIT 0xffffffffUL /* x86 */
#define __GFP_DMA 0x10u
#define __GFP_DMA32 0x20u
#define GFP_ZONEMASK (__GFP_DMA | __GFP_DMA32)
#define GFP_NOWAIT 0x40u
#define gfpflags_allow_blocking(gfp) ((void)(gfp), true)
#define force_dma_unencrypted(dev) ((void)(dev), false)
#define dma_alloc_from_pool(dev, size, cpu_addr, gfp, ok) ((void)(dev), (struct page *)NULL)
#define dma_free_from_pool(dev, start, size) ((void)(dev), false)
#define min_not_zero(a, b) ((a) == 0 ? (b) : ((b) == 0 ? (a) : min((a), (b))))
extern u64 zone_dma_limit;
extern void *high_memory;
struct page *kshim_alloc_pages(unsigned int order);
void kshim_free_pages(struct page *page, unsigned int order);
#define alloc_pages(gfp, order) ((void)(gfp), kshim_alloc_pages(order))
#define __free_pages(page, order) kshim_free_pages((page), (order))
#define page_address(page) kshim_phys_to_virt(page_to_phys(page))
#define virt_to_page(v) pfn_to_page(PFN_DOWN(kshim_virt_to_phys(v)))
#define kzalloc(size, gfp) ((void)(gfp), calloc(1, (size)))
#define kfree(p) free(p)
#define pr_warn_ratelimited(fmt, ...) pr_warn(fmt, ##__VA_ARGS__)
#define dma_reset_need_sync(dev) ((void)(dev))

#endif /* KSHIM_DYNAMIC_H */
