/* How the shim leaves kernel code: the glue sets kshim_escape before each call into it. */
#ifndef KSHIM_ESCAPE_H
#define KSHIM_ESCAPE_H

#include <setjmp.h>

/* longjmp values. */
#define KSHIM_ESCAPE_BUG 1  /* BUG_ON fired */
#define KSHIM_ESCAPE_HANG 2 /* the slot search would never end */

extern jmp_buf kshim_escape;
/* Physical address the next memblock_alloc_low (the pool) is given. */
extern phys_addr_t kshim_pool_phys;
/* More search steps than this under one area lock means the search never ends. */
extern unsigned long kshim_step_limit;
/* The lock taken last: the area whose search hung. */
extern const spinlock_t *kshim_last_lock;
/* Where BUG_ON fired. */
extern const char *kshim_bug_file;
extern int kshim_bug_line;

/* The memory of dynamic pools: [start, end), page aligned, start above 0 (6.18's
 * CONFIG_SWIOTLB_DYNAMIC). 0, or -1 when refused or already given. */
int kshim_grow_memory(phys_addr_t start, phys_addr_t end);

#endif
