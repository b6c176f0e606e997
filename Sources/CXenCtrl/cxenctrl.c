#include "cxenctrl.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#ifdef CXEN_ENABLED
#define XC_WANT_COMPAT_MAP_FOREIGN_API
#include <stdio.h>
#include <sys/mman.h>
#include <time.h>
#include <xenctrl.h>
#include <xenguest.h>
#include <xenforeignmemory.h>
#include <xentoollog.h>

/* Declared in libxenctrl's private header only (an internal ABI of 4.17). */
int xc_get_pfn_type_batch(xc_interface *xch, uint32_t dom, unsigned int num, xen_pfn_t *arr);

struct cxen_handle {
    xc_interface *xch;
    xenforeignmemory_handle *fmem;
    xentoollog_logger *logger;
};

static int err_or(int fallback) { return errno ? errno : fallback; }

int cxen_available(void) { return 1; }

int cxen_open(cxen_handle **out) {
    static FILE *quiet;
    if (!quiet) quiet = fdopen(2, "w");
    cxen_handle *h = calloc(1, sizeof(*h));
    if (!h) return ENOMEM;
    h->logger = (xentoollog_logger *)xtl_createlogger_stdiostream(quiet, XTL_CRITICAL, 0);
    errno = 0;
    h->xch = xc_interface_open(h->logger, h->logger, 0);
    if (!h->xch) {
        int e = err_or(ENOENT);
        if (h->logger) xtl_logger_destroy(h->logger);
        free(h);
        return e;
    }
    h->fmem = xenforeignmemory_open(h->logger, 0);
    if (!h->fmem) {
        int e = err_or(ENOENT);
        xc_interface_close(h->xch);
        xtl_logger_destroy(h->logger);
        free(h);
        return e;
    }
    *out = h;
    return 0;
}

void cxen_close(cxen_handle *h) {
    if (!h) return;
    if (h->fmem) xenforeignmemory_close(h->fmem);
    if (h->xch) xc_interface_close(h->xch);
    if (h->logger) xtl_logger_destroy(h->logger);
    free(h);
}

int cxen_get_physinfo(cxen_handle *h, cxen_physinfo *out) {
    xc_physinfo_t pi;
    memset(&pi, 0, sizeof(pi));
    errno = 0;
    if (xc_physinfo(h->xch, &pi) != 0) return err_or(EIO);
    out->nr_cpus = pi.nr_cpus; out->max_cpu_id = pi.max_cpu_id; out->nr_nodes = pi.nr_nodes;
    out->cores_per_socket = pi.cores_per_socket; out->threads_per_core = pi.threads_per_core;
    out->cpu_khz = pi.cpu_khz; out->total_pages = pi.total_pages; out->free_pages = pi.free_pages;
    out->scrub_pages = pi.scrub_pages; out->outstanding_pages = pi.outstanding_pages;
    out->max_mfn = pi.max_mfn; out->capabilities = pi.capabilities;
    return 0;
}

int cxen_maximum_ram_page(cxen_handle *h, uint64_t *out) {
    unsigned long m = 0;
    errno = 0;
    if (xc_maximum_ram_page(h->xch, &m) != 0) return err_or(EIO);
    *out = m;
    return 0;
}

int cxen_version(cxen_handle *h, uint32_t *major, uint32_t *minor, char *extra, size_t len) {
    xen_extraversion_t text;
    if (len == 0) return EINVAL;
    errno = 0;
    int v = xc_version(h->xch, XENVER_version, NULL);
    if (v < 0) return err_or(EIO);
    memset(text, 0, sizeof(text));
    if (xc_version(h->xch, XENVER_extraversion, &text) < 0) return err_or(EIO);
    *major = (uint32_t)v >> 16;
    *minor = (uint32_t)v & 0xffff;
    size_t n = strnlen(text, sizeof(text));
    if (n >= len) n = len - 1;
    memcpy(extra, text, n);
    extra[n] = 0;
    return 0;
}

int cxen_xen_command_line(cxen_handle *h, char *buf, size_t len) {
    xen_commandline_t line;
    if (len == 0) return EINVAL;
    memset(line, 0, sizeof(line));
    errno = 0;
    if (xc_version(h->xch, XENVER_commandline, &line) < 0) return err_or(EIO);
    size_t n = strnlen(line, sizeof(line));
    if (n >= len) n = len - 1;
    memcpy(buf, line, n);
    buf[n] = 0;
    return 0;
}

int cxen_build_id(cxen_handle *h, uint8_t *buf, size_t len, size_t *out_len) {
    uint8_t space[sizeof(xen_build_id_t) + 64];
    xen_build_id_t *id = (xen_build_id_t *)space;
    id->len = 64;
    errno = 0;
    int n = xc_version(h->xch, XENVER_build_id, id);
    if (n < 0) return err_or(EIO);
    if ((size_t)n > len || n > 64) return E2BIG;
    memcpy(buf, id->buf, (size_t)n);
    *out_len = (size_t)n;
    return 0;
}

int cxen_availheap(cxen_handle *h, int min_width, int max_width, uint64_t *bytes) {
    errno = 0;
    if (xc_availheap(h->xch, min_width, max_width, -1, bytes) != 0) return err_or(EIO);
    return 0;
}

int cxen_machine_memory_map(cxen_handle *h, cxen_e820 *entries, uint32_t max, uint32_t *count) {
    struct e820entry map[E820MAX];
    errno = 0;
    int n = xc_get_machine_memory_map(h->xch, map, E820MAX);
    if (n < 0) return err_or(EIO);
    uint32_t k = (uint32_t)n < max ? (uint32_t)n : max;
    for (uint32_t i = 0; i < k; i++) { entries[i].addr = map[i].addr; entries[i].size = map[i].size; entries[i].type = map[i].type; }
    *count = k;
    return 0;
}

int cxen_domain_list(cxen_handle *h, cxen_dominfo *out, uint32_t max, uint32_t *count) {
    xc_domaininfo_t *info = calloc(max ? max : 1, sizeof(*info));
    if (!info) return ENOMEM;
    errno = 0;
    int n = xc_domain_getinfolist(h->xch, 0, max, info);
    if (n < 0) { int e = err_or(EIO); free(info); return e; }
    for (int i = 0; i < n; i++) {
        out[i].domid = info[i].domain;
        out[i].hvm = (info[i].flags & XEN_DOMINF_hvm_guest) ? 1 : 0;
        out[i].tot_pages = info[i].tot_pages;
        out[i].max_pages = info[i].max_pages;
        out[i].shared_info_frame = info[i].shared_info_frame;
    }
    *count = (uint32_t)n;
    free(info);
    return 0;
}

static size_t m2p_bytes(uint64_t max_page) {
    size_t two_mib = (size_t)1 << 21;
    return (size_t)((max_page * 8 + two_mib - 1) / two_mib * two_mib);
}

int cxen_map_m2p(cxen_handle *h, uint64_t max_page, const uint64_t **table, size_t *bytes) {
    errno = 0;
    xen_pfn_t *t = xc_map_m2p(h->xch, max_page, PROT_READ, NULL);
    if (!t) return err_or(EIO);
    *table = (const uint64_t *)t;
    *bytes = m2p_bytes(max_page);
    return 0;
}

void cxen_unmap_m2p(const uint64_t *table, size_t bytes) {
    if (table) munmap((void *)table, bytes);
}

int cxen_pfn_types(cxen_handle *h, uint32_t domid, uint64_t *frames, uint64_t count) {
    xen_pfn_t batch[1024];
    for (uint64_t i = 0; i < count; i += 1024) {
        unsigned n = (unsigned)(count - i < 1024 ? count - i : 1024);
        for (unsigned k = 0; k < n; k++) batch[k] = (xen_pfn_t)frames[i + k];
        errno = 0;
        if (xc_get_pfn_type_batch(h->xch, domid, n, batch) != 0) return err_or(EIO);
        for (unsigned k = 0; k < n; k++) frames[i + k] = (batch[k] & XEN_DOMCTL_PFINFO_LTAB_MASK) >> XEN_DOMCTL_PFINFO_LTAB_SHIFT;
    }
    return 0;
}

/* Maps one frame of `dom` read-only. */
static void *map_ro(cxen_handle *h, uint32_t dom, uint64_t mfn) {
    xen_pfn_t f = (xen_pfn_t)mfn;
    return xenforeignmemory_map(h->fmem, dom, PROT_READ, 1, &f, NULL);
}

#define PTE_MFN(p) (((p) & 0x000ffffffffff000ULL) >> 12)
#define PTE_PRESENT(p) ((p) & 1)
#define PTE_LARGE(p) ((p) & 0x80)

/* The page-table pages a walk has mapped, one per level (index level - 1), kept mapped while
 * the next walk passes through the same ones: the P2M list's virtual pages are consecutive, so
 * a walk over all of them maps each table once instead of four pages per P2M page (2,560 P2M
 * pages of a 4 GiB dom0 were 10,240 map and unmap calls, each a hypercall and a TLB flush). */
typedef struct {
    uint64_t mfn[4];
    uint64_t *table[4];
} walk_cache;

/* The table at machine frame `mfn` for `level`, mapped read-only through the cache. */
static uint64_t *cached_table(cxen_handle *h, uint32_t dom, walk_cache *c, int level, uint64_t mfn) {
    if (c->table[level - 1] && c->mfn[level - 1] == mfn) return c->table[level - 1];
    if (c->table[level - 1]) xenforeignmemory_unmap(h->fmem, c->table[level - 1], 1);
    c->table[level - 1] = map_ro(h, dom, mfn);
    c->mfn[level - 1] = mfn;
    return c->table[level - 1];
}

static void release_walk_cache(cxen_handle *h, walk_cache *c) {
    for (int i = 0; i < 4; i++)
        if (c->table[i]) xenforeignmemory_unmap(h->fmem, c->table[i], 1);
    memset(c, 0, sizeof(*c));
}

/* The machine frame behind virtual address `va` of `dom`'s page tables rooted at `l4`. */
static int walk(cxen_handle *h, uint32_t dom, walk_cache *c, uint64_t l4, uint64_t va, uint64_t *mfn) {
    uint64_t table = l4;
    for (int level = 4; level >= 1; level--) {
        uint64_t *t = cached_table(h, dom, c, level, table);
        if (!t) return err_or(EIO);
        uint64_t pte = t[(va >> (12 + 9 * (level - 1))) & 511];
        if (!PTE_PRESENT(pte)) return ERANGE;
        if (level > 1 && PTE_LARGE(pte)) {
            *mfn = PTE_MFN(pte) + ((va >> 12) & ((1ULL << (9 * (level - 1))) - 1));
            return 0;
        }
        table = PTE_MFN(pte);
    }
    *mfn = table;
    return 0;
}

int cxen_read_p2m(cxen_handle *h, uint32_t domid, int self, cxen_p2m *out) {
    memset(out, 0, sizeof(*out));
    uint32_t mapdom = self ? DOMID_SELF : domid;
    xc_domaininfo_t info;
    errno = 0;
    int n = xc_domain_getinfolist(h->xch, domid, 1, &info);
    if (n < 0) return err_or(EIO);
    if (n == 0 || info.domain != domid) return CXEN_NO_DOMAIN;
    if (info.flags & XEN_DOMINF_hvm_guest) return EOPNOTSUPP;        /* HVM/PVH: no P2M list */
    unsigned int width = 0;
    if (xc_domain_get_guest_width(h->xch, domid, &width) != 0) return err_or(EOPNOTSUPP);
    shared_info_t *si = xc_map_foreign_range(h->xch, mapdom, XC_PAGE_SIZE, PROT_READ, info.shared_info_frame);
    if (!si) return err_or(EIO);
    int rc = 0;
    for (uint32_t attempt = 1; attempt <= 8; attempt++) {
        uint64_t gen = __atomic_load_n(&si->arch.p2m_generation, __ATOMIC_ACQUIRE);
        if (gen & 1) { struct timespec ts = {0, 1000000}; nanosleep(&ts, NULL); continue; }
        uint64_t max_pfn = si->arch.max_pfn, cr3 = si->arch.p2m_cr3, va = si->arch.p2m_vaddr;
        if (cr3 == 0 || max_pfn == 0) { rc = ENODATA; break; }
        uint64_t pages = (max_pfn * 8 + 4095) / 4096;
        xen_pfn_t *frames = calloc(pages, sizeof(*frames));
        uint64_t *copy = malloc(max_pfn * 8);
        if (!frames || !copy) { free(frames); free(copy); rc = ENOMEM; break; }
        walk_cache cache = {0};
        for (uint64_t i = 0; i < pages && rc == 0; i++) {
            uint64_t m;
            rc = walk(h, mapdom, &cache, cr3 >> 12, va + i * 4096, &m);
            frames[i] = (xen_pfn_t)m;
        }
        release_walk_cache(h, &cache);
        if (rc == 0) {
            uint64_t *list = xenforeignmemory_map(h->fmem, mapdom, PROT_READ, pages, frames, NULL);
            if (!list) rc = err_or(EIO);
            else { memcpy(copy, list, max_pfn * 8); xenforeignmemory_unmap(h->fmem, list, pages); }
        }
        free(frames);
        if (rc) { free(copy); break; }
        __atomic_thread_fence(__ATOMIC_ACQUIRE);
        if (__atomic_load_n(&si->arch.p2m_generation, __ATOMIC_ACQUIRE) != gen) { free(copy); continue; }
        uint64_t *types = malloc(max_pfn * 8);
        if (!types) { free(copy); rc = ENOMEM; break; }
        memcpy(types, copy, max_pfn * 8);
        rc = cxen_pfn_types(h, domid, types, max_pfn);
        if (rc) { free(copy); free(types); break; }
        out->types = malloc(max_pfn * sizeof(uint32_t));
        if (!out->types) { free(copy); free(types); rc = ENOMEM; break; }
        for (uint64_t i = 0; i < max_pfn; i++) out->types[i] = (uint32_t)types[i];
        free(types);
        out->p2m = copy; out->size = max_pfn; out->guest_width = width; out->pt_levels = 4;
        out->attempts = attempt; out->generation = gen;
        break;
    }
    if (rc == 0 && !out->p2m) rc = EAGAIN;
    xenforeignmemory_unmap(h->fmem, si, 1);
    return rc;
}

void cxen_free_p2m(cxen_p2m *p) {
    free(p->p2m); free(p->types);
    p->p2m = NULL; p->types = NULL;
}

#else /* built without libxenctrl */

int cxen_available(void) { return 0; }
int cxen_open(cxen_handle **out) { (void)out; return ENOSYS; }
void cxen_close(cxen_handle *h) { (void)h; }
int cxen_get_physinfo(cxen_handle *h, cxen_physinfo *out) { (void)h; (void)out; return ENOSYS; }
int cxen_maximum_ram_page(cxen_handle *h, uint64_t *out) { (void)h; (void)out; return ENOSYS; }
int cxen_availheap(cxen_handle *h, int a, int b, uint64_t *c) { (void)h; (void)a; (void)b; (void)c; return ENOSYS; }
int cxen_version(cxen_handle *h, uint32_t *a, uint32_t *b, char *e, size_t l) { (void)h; (void)a; (void)b; (void)e; (void)l; return ENOSYS; }
int cxen_xen_command_line(cxen_handle *h, char *b, size_t l) { (void)h; (void)b; (void)l; return ENOSYS; }
int cxen_build_id(cxen_handle *h, uint8_t *b, size_t l, size_t *o) { (void)h; (void)b; (void)l; (void)o; return ENOSYS; }
int cxen_machine_memory_map(cxen_handle *h, cxen_e820 *e, uint32_t m, uint32_t *c) { (void)h; (void)e; (void)m; (void)c; return ENOSYS; }
int cxen_domain_list(cxen_handle *h, cxen_dominfo *o, uint32_t m, uint32_t *c) { (void)h; (void)o; (void)m; (void)c; return ENOSYS; }
int cxen_map_m2p(cxen_handle *h, uint64_t m, const uint64_t **t, size_t *b) { (void)h; (void)m; (void)t; (void)b; return ENOSYS; }
void cxen_unmap_m2p(const uint64_t *t, size_t b) { (void)t; (void)b; }
int cxen_read_p2m(cxen_handle *h, uint32_t d, int s, cxen_p2m *o) { (void)h; (void)d; (void)s; (void)o; return ENOSYS; }
void cxen_free_p2m(cxen_p2m *p) { (void)p; }
int cxen_pfn_types(cxen_handle *h, uint32_t d, uint64_t *f, uint64_t c) { (void)h; (void)d; (void)f; (void)c; return ENOSYS; }

#endif
