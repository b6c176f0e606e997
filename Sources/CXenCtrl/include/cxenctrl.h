/* A thin, read-only shim over libxenctrl / libxenguest / libxenforeignmemory (Xen 4.17).
 * Every function returns 0 or a positive errno; nothing is ever written to Xen. */
#ifndef CXENCTRL_H
#define CXENCTRL_H

#include <stddef.h>
#include <stdint.h>

typedef struct cxen_handle cxen_handle;

/* Returned by cxen_read_p2m when no domain has that id (not an errno). */
#define CXEN_NO_DOMAIN 100001

/* 1 when the shim was built against libxenctrl (the package trait XenCtrl), else 0. */
int cxen_available(void);

/* Opens the control interface with a logger that prints nothing. */
int cxen_open(cxen_handle **out);
void cxen_close(cxen_handle *h);

typedef struct {
    uint32_t nr_cpus, max_cpu_id, nr_nodes, cores_per_socket, threads_per_core, cpu_khz;
    uint64_t total_pages, free_pages, scrub_pages, outstanding_pages, max_mfn;
    uint32_t capabilities;
} cxen_physinfo;

int cxen_get_physinfo(cxen_handle *h, cxen_physinfo *out);
/* XENMEM_maximum_ram_page: one past the highest RAM MFN. */
int cxen_maximum_ram_page(cxen_handle *h, uint64_t *out);
/* Free heap bytes between two address widths (0 = no bound). */
int cxen_availheap(cxen_handle *h, int min_width, int max_width, uint64_t *bytes);

/* XENVER_version and XENVER_extraversion: 4, 17 and ".7". */
int cxen_version(cxen_handle *h, uint32_t *major, uint32_t *minor, char *extra, size_t len);
/* XENVER_commandline: Xen's boot command line, NUL-terminated, cut to `len` - 1 bytes. */
int cxen_xen_command_line(cxen_handle *h, char *buf, size_t len);
/* XENVER_build_id: the hypervisor's build id (`*out_len` bytes, at most `len`). */
int cxen_build_id(cxen_handle *h, uint8_t *buf, size_t len, size_t *out_len);

typedef struct { uint64_t addr, size; uint32_t type; } cxen_e820;
int cxen_machine_memory_map(cxen_handle *h, cxen_e820 *entries, uint32_t max, uint32_t *count);

typedef struct {
    uint32_t domid;
    uint32_t hvm;
    uint64_t tot_pages, max_pages, shared_info_frame;
} cxen_dominfo;
int cxen_domain_list(cxen_handle *h, cxen_dominfo *out, uint32_t max, uint32_t *count);

/* The M2P, mapped read-only; unmap with the size returned. */
int cxen_map_m2p(cxen_handle *h, uint64_t max_page, const uint64_t **table, size_t *bytes);
void cxen_unmap_m2p(const uint64_t *table, size_t bytes);

typedef struct {
    uint64_t *p2m;          /* malloc'd: size raw P2M words */
    uint32_t *types;        /* malloc'd: size page types (XEN_DOMCTL_PFINFO_* >> 28) */
    uint64_t size;
    uint32_t guest_width, pt_levels;
    uint32_t attempts;      /* copies made until p2m_generation was stable */
    uint64_t generation;
} cxen_p2m;

/* A PV domain's P2M read through its own page tables: map shared_info read-only (with
 * DOMID_SELF when domid is the caller's), walk the 4-level tables from arch.p2m_cr3 to the
 * list pages at arch.p2m_vaddr, map them read-only and copy arch.max_pfn words; repeat while
 * arch.p2m_generation changes or is odd. Page types come from getpageframeinfo3. */
int cxen_read_p2m(cxen_handle *h, uint32_t domid, int self, cxen_p2m *out);
void cxen_free_p2m(cxen_p2m *p);

/* getpageframeinfo3 on `count` frames of `domid`, in place (1024 per hypercall); each entry
 * becomes its type nibble (0 = ordinary page owned by the domain, 0xf = XTAB). */
int cxen_pfn_types(cxen_handle *h, uint32_t domid, uint64_t *frames, uint64_t count);

#endif
