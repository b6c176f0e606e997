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

static unsigned long search_steps;
static unsigned char *pool_virt;
static size_t pool_bytes;

/* Original buffers: every address outside the pool lands in a 1 MiB window, with room after
 * it for the largest bounce (256 KiB plus a slot offset). The data is never checked. */
#define SCRATCH_WINDOW (1UL << 20)
static unsigned char scratch[2 * SCRATCH_WINDOW];
#define POOL_TAIL SCRATCH_WINDOW

void *kshim_phys_to_virt(phys_addr_t p)
{
	if (pool_virt && p >= kshim_pool_phys && p - kshim_pool_phys < pool_bytes)
		return pool_virt + (p - kshim_pool_phys);
	return scratch + (p & (SCRATCH_WINDOW - 1));
}

phys_addr_t kshim_virt_to_phys(const void *v)
{
	const unsigned char *c = v;
	if (pool_virt && c >= pool_virt && (size_t)(c - pool_virt) < pool_bytes)
		return kshim_pool_phys + (phys_addr_t)(c - pool_virt);
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
