/* The out-of-line parts of kshim.h: memory, messages, locks and the two escapes. */
#include "kshim.h"
#include "kshim_escape.h"

#include <stdarg.h>
#include <stdio.h>
#include <sys/mman.h>

unsigned int kshim_cpu;
unsigned int kshim_possible_cpus = 1;
unsigned long kshim_warn_once_reached;
unsigned long long kshim_bounced_bytes;

jmp_buf kshim_escape;
phys_addr_t kshim_pool_phys;
unsigned long kshim_step_limit = ~0UL;
const spinlock_t *kshim_last_lock;
const char *kshim_bug_file;
int kshim_bug_line;

u64 zone_dma_limit = DMA_BIT_MASK(24);
void *high_memory;

static unsigned long search_steps;
static unsigned char *pool_virt;
static size_t pool_bytes;

/* The memory of dynamic pools (kshim_dynamic.h): [grow_start, grow_start + grow_bytes), backed
 * at grow_virt, and its free blocks as sorted disjoint ranges. */
static phys_addr_t grow_start;
static size_t grow_bytes;
static unsigned char *grow_virt;
#define MAX_FREE_RANGES 4096
static struct { phys_addr_t start, end; } free_ranges[MAX_FREE_RANGES];
static size_t nfree;

/* Original buffers: every address outside the pool lands in a 1 MiB window, with room after
 * it for the largest bounce (256 KiB plus a slot offset). The data is never checked. */
#define SCRATCH_WINDOW (1UL << 20)
static unsigned char scratch[2 * SCRATCH_WINDOW];
#define POOL_TAIL SCRATCH_WINDOW

void *kshim_phys_to_virt(phys_addr_t p)
{
	if (pool_virt && p >= kshim_pool_phys && p - kshim_pool_phys < pool_bytes)
		return pool_virt + (p - kshim_pool_phys);
	if (grow_virt && p >= grow_start && p - grow_start < grow_bytes)
		return grow_virt + (p - grow_start);
	return scratch + (p & (SCRATCH_WINDOW - 1));
}

phys_addr_t kshim_virt_to_phys(const void *v)
{
	const unsigned char *c = v;
	if (pool_virt && c >= pool_virt && (size_t)(c - pool_virt) < pool_bytes)
		return kshim_pool_phys + (phys_addr_t)(c - pool_virt);
	if (grow_virt && c >= grow_virt && (size_t)(c - grow_virt) < grow_bytes)
		return grow_start + (phys_addr_t)(c - grow_virt);
	BUG(); /* only the pool's own address is ever asked for */
}

void *kshim_memblock_alloc(size_t size, size_t align, bool pool)
{
	if (pool) {
		if (pool_virt)
			return NULL; /* one pool per run */
		/* A trace's original buffer may lie inside the pool's addresses (no real one does):
		 * room after the pool keeps a bounce from there inside memory. */
		void *p = mmap(NULL, size + POOL_TAIL, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
		if (p == MAP_FAILED)
			return NULL;
		pool_virt = p;
		pool_bytes = size;
		return p;
	}
	if (align < sizeof(void *))
		align = sizeof(void *);
	size_t rounded = (size + align - 1) / align * align;
	void *p = aligned_alloc(align, rounded ? rounded : align);
	if (p)
		memset(p, 0, rounded);
	return p;
}

unsigned long kshim_get_free_pages(unsigned int order)
{
	size_t bytes = PAGE_SIZE << order;
	void *p = aligned_alloc(PAGE_SIZE, bytes);
	if (p)
		memset(p, 0, bytes);
	return (unsigned long)p;
}

int kshim_grow_memory(phys_addr_t start, phys_addr_t end)
{
	if (grow_virt || start == 0 || start >= end || (start | end) & (PAGE_SIZE - 1))
		return -1;
	grow_bytes = end - start;
	/* Room after the range, as after the pool, for a bounce from an original inside it. */
	void *p = mmap(NULL, grow_bytes + POOL_TAIL, PROT_READ | PROT_WRITE,
		       MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return -1;
	grow_virt = p;
	grow_start = start;
	free_ranges[0].start = start;
	free_ranges[0].end = end;
	nfree = 1;
	return 0;
}

/* The lowest free block of 2^order pages aligned to its size, or NULL. */
struct page *kshim_alloc_pages(unsigned int order)
{
	phys_addr_t block = PAGE_SIZE << order;
	for (size_t k = 0; k < nfree; k++) {
		phys_addr_t start = (free_ranges[k].start + block - 1) & ~(block - 1);
		if (start < free_ranges[k].start || start + block > free_ranges[k].end || start + block < start)
			continue;
		phys_addr_t lo = free_ranges[k].start, hi = free_ranges[k].end;
		size_t n = (lo < start) + (start + block < hi);
		if (nfree - 1 + n > MAX_FREE_RANGES)
			return NULL;
		memmove(&free_ranges[k + n], &free_ranges[k + 1], (nfree - k - 1) * sizeof(free_ranges[0]));
		nfree = nfree - 1 + n;
		size_t w = k;
		if (lo < start) {
			free_ranges[w].start = lo;
			free_ranges[w++].end = start;
		}
		if (start + block < hi) {
			free_ranges[w].start = start + block;
			free_ranges[w].end = hi;
		}
		return pfn_to_page(PFN_DOWN(start));
	}
	return NULL;
}

/* Gives the block back, merged with the free ranges beside it. */
void kshim_free_pages(struct page *page, unsigned int order)
{
	phys_addr_t start = page_to_phys(page), end = start + (PAGE_SIZE << order);
	size_t k = 0;
	while (k < nfree && free_ranges[k].end <= start)
		k++;
	if (k > 0 && free_ranges[k - 1].end == start) {
		k--;
		start = free_ranges[k].start;
		memmove(&free_ranges[k], &free_ranges[k + 1], (nfree - k - 1) * sizeof(free_ranges[0]));
		nfree--;
	}
	if (k < nfree && free_ranges[k].start == end) {
		end = free_ranges[k].end;
		memmove(&free_ranges[k], &free_ranges[k + 1], (nfree - k - 1) * sizeof(free_ranges[0]));
		nfree--;
	}
	memmove(&free_ranges[k + 1], &free_ranges[k], (nfree - k) * sizeof(free_ranges[0]));
	free_ranges[k].start = start;
	free_ranges[k].end = end;
	nfree++;
}

/* RCU callbacks waiting for their grace period, in call order. */
#define MAX_RCU_PENDING 1024
static struct { struct rcu_head *head; void (*fn)(struct rcu_head *); } rcu_pending[MAX_RCU_PENDING];
static size_t nrcu;

void kshim_call_rcu(struct rcu_head *head, void (*fn)(struct rcu_head *))
{
	if (nrcu == MAX_RCU_PENDING)
		kshim_rcu_barrier();
	rcu_pending[nrcu].head = head;
	rcu_pending[nrcu++].fn = fn;
}

void kshim_rcu_barrier(void)
{
	for (size_t k = 0; k < nrcu; k++)
		rcu_pending[k].fn(rcu_pending[k].head);
	nrcu = 0;
}

void kshim_printk(const char *level, const struct device *dev, const char *fmt, ...)
{
	va_list ap;
	size_t n = strlen(fmt);
	fprintf(stderr, "%s: ", level);
	if (dev)
		fprintf(stderr, "%s: ", dev->name ? dev->name : "(no name)");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	if (n == 0 || fmt[n - 1] != '\n')
		fputc('\n', stderr);
}

void kshim_lock(spinlock_t *lock)
{
	lock->held = 1;
	kshim_last_lock = lock;
	search_steps = 0;
}

void kshim_search_step(void)
{
	if (++search_steps > kshim_step_limit)
		longjmp(kshim_escape, KSHIM_ESCAPE_HANG);
}

_Noreturn void kshim_bug(const char *file, int line)
{
	kshim_bug_file = file;
	kshim_bug_line = line;
	longjmp(kshim_escape, KSHIM_ESCAPE_BUG);
}
