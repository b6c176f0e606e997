/*
 * kv-replay61 / kv-replay511 / kv-replay618[-dynamic]: replays a swiotlb trace (format v2,
 * docs/trace-format.md and issue 20) through a kernel's own allocator (kv.h: 6.1.192, 5.11 or
 * 6.18) and prints the result lines. v6.1 and v6.18:
 *
 *   map id=<ID> tlb=<0xHEX> used=<N>       map id=<ID> error=full used=<N>
 *   map id=<ID> error=invalid-size          unmap id=<ID> used=<N>
 *   unmap id=<ID> skipped=map-failed        sync id=<ID> skipped=map-failed
 *   final used=<N>   area <i> used=<U> index=<I> (each area)   checksum list=<0xHEX>
 *
 * v5.11 (format v1: one area, no CPUs, min_align, align or areas=; nslabs=1 is `noforce`):
 *   the same op lines, then `final used=<N> index=<I>` and the checksum.
 * v6.18 never prints invalid-size or hang; kv-replay618-dynamic (CONFIG_SWIOTLB_DYNAMIC) needs
 * --grow-memory 0x<START>-0x<END> [--grow-limit 0x<L>] and adds, after the area lines,
 *   grown start=<0xHEX> nslabs=<N> areas=<A> used=<U>   (each pool the worker added, oldest first)
 *   transient nslabs=<N>
 * Where the kernel would never return from a map: `map id=<ID> hang area=<A>`, exit 3.
 * Where the kernel would BUG: `<op> id=<ID> bug=<file>:<line>`, exit 4.
 * A malformed trace: `<file>:<line>: <what>: '<token>'` on stderr, exit 1.
 * Kernel messages go to stderr ("warn: <dev>: swiotlb buffer is full ...").
 *
 * Usage: kv-replay61|kv-replay511|kv-replay618[-dynamic] [--count-bytes] [--continue-after-hang]
 *        [--possible-cpus N] [--grow-memory 0x<START>-0x<END>] [--grow-limit 0x<L>] <trace | ->
 *
 * --count-bytes ends with `bounced bytes=<N>`: what the kernel's swiotlb_bounce copied.
 * --continue-after-hang prints the hang line and goes on as if that map had failed (a hung
 * search changes nothing before it loops); the generator uses it to find the maps to drop.
 * The kernel itself never continues.
 */
#include "kv.h"

#include <errno.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LINE_BYTES 4096
#define ID_BYTES 64
#define NAME_BYTES 64
#define MAX_NSLABS (1UL << 18) /* 512 MiB of pool: what the harness will back with memory */
#define MAX_AREAS 1024
#define MAX_CPU (1u << 20)

enum { EXIT_TRACE = 1, EXIT_HANG = 3, EXIT_BUG = 4 };

static const char *trace_name;
static unsigned long line_no;

static _Noreturn void fail(const char *what, const char *token)
{
	fflush(stdout);
	fprintf(stderr, "%s:%lu: %s: '%.80s'\n", trace_name, line_no, what, token);
	exit(EXIT_TRACE);
}

/* ---- ids ---- */

enum id_state { ID_IDLE, ID_LIVE, ID_FAILED };

struct mapping {
	char *id;
	enum id_state state;
	uint64_t tlb;
	size_t size, alloc;
	enum kv_dir dir;
	unsigned int attrs;
	struct kv_device dev;
	char dev_name[NAME_BYTES + 1];
};

/* Open addressing over a power-of-two table of every id seen (ids are never removed). */
static struct mapping *table;
static size_t table_mask = 1023, table_count;

static uint64_t fnv1a(const char *s)
{
	uint64_t h = 0xcbf29ce484222325ULL;
	while (*s)
		h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
	return h;
}

static struct mapping *slot_for(struct mapping *t, size_t mask, const char *id)
{
	size_t i = fnv1a(id) & mask;
	while (t[i].id && strcmp(t[i].id, id) != 0)
		i = (i + 1) & mask;
	return &t[i];
}

static void table_grow(void)
{
	size_t mask = table_mask * 2 + 1;
	struct mapping *t = calloc(mask + 1, sizeof(*t));
	if (!t) {
		fprintf(stderr, "kv-replay: out of memory\n");
		exit(2);
	}
	for (size_t i = 0; table && i <= table_mask; i++)
		if (table[i].id) {
			struct mapping *s = slot_for(t, mask, table[i].id);
			*s = table[i];
			s->dev.name = s->dev_name;
		}
	free(table);
	table = t;
	table_mask = mask;
}

/* The entry for `id`, created (idle) when `create`; NULL when absent and not created. */
static struct mapping *lookup(const char *id, bool create)
{
	if (!table) {
		table = calloc(table_mask + 1, sizeof(*table));
		if (!table) {
			fprintf(stderr, "kv-replay: out of memory\n");
			exit(2);
		}
	}
	struct mapping *m = slot_for(table, table_mask, id);
	if (m->id || !create)
		return m->id ? m : NULL;
	if ((table_count + 1) * 2 > table_mask + 1) {
		table_grow();
		m = slot_for(table, table_mask, id);
	}
	m->id = strdup(id);
	if (!m->id) {
		fprintf(stderr, "kv-replay: out of memory\n");
		exit(2);
	}
	m->state = ID_IDLE;
	table_count++;
	return m;
}

/* ---- values ---- */

static uint64_t hex_value(const char *token, const char *v, uint64_t max)
{
	if (v[0] != '0' || (v[1] != 'x' && v[1] != 'X') || !v[2] || strlen(v) > 18)
		fail("expected 0x-prefixed hex that fits in 64 bits", token);
	uint64_t n = 0;
	for (const char *c = v + 2; *c; c++) {
		int d;
		if (*c >= '0' && *c <= '9') d = *c - '0';
		else if (*c >= 'a' && *c <= 'f') d = *c - 'a' + 10;
		else if (*c >= 'A' && *c <= 'F') d = *c - 'A' + 10;
		else fail("expected 0x-prefixed hex that fits in 64 bits", token);
		n = n << 4 | (uint64_t)d;
	}
	if (n > max)
		fail("value too large", token);
	return n;
}

static uint64_t decimal_value(const char *token, const char *v, uint64_t max)
{
	if (!*v || strlen(v) > 20)
		fail("expected a decimal number", token);
	uint64_t n = 0;
	for (const char *c = v; *c; c++) {
		if (*c < '0' || *c > '9')
			fail("expected a decimal number", token);
		uint64_t d = (uint64_t)(*c - '0');
		if (n > (UINT64_MAX - d) / 10)
			fail("expected a decimal number", token);
		n = n * 10 + d;
	}
	if (n > max)
		fail("value too large", token);
	return n;
}

/* A word of letters, digits and "_.:-" up to `max` bytes. */
static const char *word_value(const char *token, const char *v, size_t max)
{
	size_t n = strlen(v);
	if (n == 0 || n > max || strspn(v, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.:-") != n)
		fail("expected a word (letters, digits, _ . : -)", token);
	return v;
}

static enum kv_dir dir_value(const char *token, const char *v)
{
	if (!strcmp(v, "to_device")) return KV_TO_DEVICE;
	if (!strcmp(v, "from_device")) return KV_FROM_DEVICE;
	if (!strcmp(v, "bidirectional")) return KV_BIDIRECTIONAL;
	if (!strcmp(v, "none")) return KV_NONE;
	fail("dir must be to_device, from_device, bidirectional or none", token);
}

static unsigned int attrs_value(const char *token, const char *v)
{
	unsigned int a = 0;
	char buf[LINE_BYTES];
	snprintf(buf, sizeof(buf), "%s", v);
	for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
		if (!strcmp(p, "skip_cpu_sync")) a |= KV_ATTR_SKIP_CPU_SYNC;
		else if (!strcmp(p, "no_warn")) a |= KV_ATTR_NO_WARN;
		else fail("attrs must be skip_cpu_sync and/or no_warn", token);
	}
	if (!a || v[strlen(v) - 1] == ',' || v[0] == ',')
		fail("attrs must be skip_cpu_sync and/or no_warn", token);
	return a;
}

/* ---- one line ---- */

struct op {
	enum { OP_POOL, OP_MAP, OP_UNMAP, OP_SYNC } kind;
	char id[ID_BYTES + 1];
	uint64_t nslabs, start, areas, orig, size, alloc, seg_mask, dma_mask, min_align, align, cpu;
	bool has_areas, has_alloc, has_id, has_orig, has_size, has_dir, has_target, has_nslabs, has_start;
	enum kv_dir dir;
	unsigned int attrs;
	bool to_cpu;
	char dev[NAME_BYTES + 1];
};

/* Which keys each op takes. */
static bool key_allowed(int kind, const char *key)
{
	static const char *const pool[] = { "nslabs", "start", "areas", "name", NULL };
	static const char *const map[] = { "id", "orig", "size", "alloc", "dir", "attrs", "seg_mask", "dma_mask",
					   "min_align", "align", "cpu", "dev", "kernel_tlb", NULL };
	static const char *const unmap[] = { "id", NULL };
	static const char *const sync[] = { "id", "target", NULL };
	const char *const *keys = kind == OP_POOL ? pool : kind == OP_MAP ? map : kind == OP_UNMAP ? unmap : sync;
	for (; *keys; keys++)
		if (!strcmp(*keys, key))
			return true;
	return false;
}

/* Whether the allocator is v5.11's (format v1 output). */
static bool v511;

/* Parses `line` (comment stripped by the caller); false for a blank line. */
static bool parse(char *line, struct op *op)
{
	char *save = NULL, *word = strtok_r(line, " \t\r", &save);
	if (!word)
		return false;
	memset(op, 0, sizeof(*op));
	if (!strcmp(word, "pool")) op->kind = OP_POOL;
	else if (!strcmp(word, "map")) op->kind = OP_MAP;
	else if (!strcmp(word, "unmap")) op->kind = OP_UNMAP;
	else if (!strcmp(word, "sync")) op->kind = OP_SYNC;
	else fail("expected pool, map, unmap or sync", word);
	strcpy(op->dev, "dev");
	op->dma_mask = UINT64_MAX;
	char seen[16][16];
	int nseen = 0;
	for (char *tok; (tok = strtok_r(NULL, " \t\r", &save));) {
		char *eq = strchr(tok, '=');
		if (!eq || eq == tok)
			fail("expected key=value", tok);
		*eq = 0;
		const char *key = tok, *v = eq + 1;
		char token[LINE_BYTES];
		snprintf(token, sizeof(token), "%s=%s", key, v);
		if (!key_allowed(op->kind, key))
			fail("unknown key for this op", token);
		if (v511 && (!strcmp(key, "areas") || !strcmp(key, "min_align") || !strcmp(key, "align")))
			fail("v5.11 has no areas, min_align or align", token);
		for (int i = 0; i < nseen; i++)
			if (!strcmp(seen[i], key))
				fail("key given twice", token);
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", key);
		if (!strcmp(key, "id")) {
			snprintf(op->id, sizeof(op->id), "%s", word_value(token, v, ID_BYTES));
			op->has_id = true;
		} else if (!strcmp(key, "nslabs")) {
			op->nslabs = decimal_value(token, v, MAX_NSLABS);
			if (!op->nslabs)
				fail("nslabs must be at least 1", token);
			op->has_nslabs = true;
		} else if (!strcmp(key, "start")) {
			op->start = hex_value(token, v, UINT64_MAX);
			if (op->start & 0xfff)
				fail("start must be page aligned", token);
			if (op->start > UINT64_MAX - (MAX_NSLABS << 11))
				fail("pool would end beyond 64 bits", token);
			op->has_start = true;
		} else if (!strcmp(key, "areas")) {
			op->areas = decimal_value(token, v, MAX_AREAS);
			op->has_areas = true;
		} else if (!strcmp(key, "name")) {
			word_value(token, v, NAME_BYTES);
		} else if (!strcmp(key, "orig")) {
			op->orig = hex_value(token, v, UINT64_MAX);
			op->has_orig = true;
		} else if (!strcmp(key, "size")) {
			op->size = decimal_value(token, v, UINT32_MAX);
			op->has_size = true;
		} else if (!strcmp(key, "alloc")) {
			op->alloc = decimal_value(token, v, UINT32_MAX);
			op->has_alloc = true;
		} else if (!strcmp(key, "dir")) {
			op->dir = dir_value(token, v);
			op->has_dir = true;
		} else if (!strcmp(key, "attrs")) {
			op->attrs = attrs_value(token, v);
		} else if (!strcmp(key, "seg_mask")) {
			op->seg_mask = hex_value(token, v, UINT64_MAX);
		} else if (!strcmp(key, "dma_mask")) {
			op->dma_mask = hex_value(token, v, UINT64_MAX); /* 6.18's transient pools stay under it */
		} else if (!strcmp(key, "kernel_tlb")) {
			hex_value(token, v, UINT64_MAX); /* replay ignores kernel_tlb */
		} else if (!strcmp(key, "min_align")) {
			op->min_align = hex_value(token, v, UINT32_MAX);
		} else if (!strcmp(key, "align")) {
			op->align = hex_value(token, v, UINT32_MAX);
		} else if (!strcmp(key, "cpu")) {
			op->cpu = decimal_value(token, v, MAX_CPU);
		} else if (!strcmp(key, "dev")) {
			snprintf(op->dev, sizeof(op->dev), "%s", word_value(token, v, NAME_BYTES));
		} else if (!strcmp(key, "target")) {
			if (!strcmp(v, "cpu")) op->to_cpu = true;
			else if (strcmp(v, "device")) fail("target must be cpu or device", token);
			op->has_target = true;
		}
	}
	if (op->kind == OP_POOL && !(op->has_nslabs && op->has_start))
		fail("pool needs nslabs= and start=", "pool");
	if (op->kind == OP_MAP && !(op->has_id && op->has_orig && op->has_size && op->has_dir))
		fail("map needs id=, orig=, size= and dir=", "map");
	if (op->kind == OP_UNMAP && !op->has_id)
		fail("unmap needs id=", "unmap");
	if (op->kind == OP_SYNC && !(op->has_id && op->has_target))
		fail("sync needs id= and target=", "sync");
	if (op->kind == OP_MAP && !op->has_alloc)
		op->alloc = op->size;
	return true;
}

/* ---- running ---- */

/* Whether the allocator is 6.18's with CONFIG_SWIOTLB_DYNAMIC (kv-replay618-dynamic). */
static bool dynamic;
static uint64_t grow_start, grow_end, grow_limit = 0xffffffffULL;

static bool have_pool;
static bool continue_after_hang;
static bool count_bytes;

static _Noreturn void escape(const char *opname, const char *id, enum kv_result r)
{
	if (r == KV_HANG) {
		printf("%s id=%s hang area=%u\n", opname, id, kv_hang_area());
		fflush(stdout);
		fprintf(stderr, "%s:%lu: Linux 6.1.192 would never return from this map (its slot search loops with the area lock held)\n",
			trace_name, line_no);
		exit(EXIT_HANG);
	}
	int line;
	const char *file = kv_bug_site(&line);
	const char *base = strrchr(file, '/');
	printf("%s id=%s bug=%s:%d\n", opname, id, base ? base + 1 : file, line);
	fflush(stdout);
	fprintf(stderr, "%s:%lu: the kernel would BUG here (%s:%d)\n", trace_name, line_no, file, line);
	exit(EXIT_BUG);
}

static void run(const struct op *op, unsigned int possible_cpus)
{
	if (op->kind == OP_POOL) {
		if (have_pool)
			fail("v6.1 has one pool: pool given twice", "pool");
		char cmdline[64];
		if (v511 && op->nslabs == 1)
			snprintf(cmdline, sizeof(cmdline), "noforce"); /* 5.11's one-slot pool */
		else if (op->has_areas)
			snprintf(cmdline, sizeof(cmdline), "%" PRIu64 ",%" PRIu64, op->nslabs, op->areas);
		else
			snprintf(cmdline, sizeof(cmdline), "%" PRIu64, op->nslabs);
		if (kv_setup(cmdline, op->start, possible_cpus) != 0)
			fail("the kernel made no pool for", cmdline);
		if (dynamic) {
			/* The pool as the kernel sized it (raised for its areas). */
			uint64_t end = op->start + ((uint64_t)kv_nslabs() << 11);
			char where[32];
			snprintf(where, sizeof(where), "start=0x%" PRIx64, op->start);
			if (op->start < grow_end && grow_start < end)
				fail("pool overlaps the memory of dynamic pools", where);
			if (kv_grow(grow_start, grow_end, grow_limit) != 0)
				fail("the harness could not back the memory of dynamic pools", "pool");
		}
		have_pool = true;
		return;
	}
	if (!have_pool)
		fail("a pool line must come first", op->kind == OP_MAP ? "map" : op->kind == OP_UNMAP ? "unmap" : "sync");
	char token[ID_BYTES + 4];
	snprintf(token, sizeof(token), "id=%s", op->id);
	struct mapping *m = lookup(op->id, op->kind == OP_MAP);
	switch (op->kind) {
	case OP_MAP: {
		if (m->state == ID_LIVE)
			fail("duplicate id (still mapped)", token);
		snprintf(m->dev_name, sizeof(m->dev_name), "%s", op->dev);
		m->dev.name = m->dev_name;
		m->dev.min_align = (unsigned int)op->min_align;
		m->dev.seg_mask = op->seg_mask;
		m->dev.dma_mask = op->dma_mask;
		m->size = op->size;
		m->alloc = op->alloc;
		m->dir = op->dir;
		m->attrs = op->attrs;
		uint64_t tlb = 0;
		enum kv_result r = kv_map(&m->dev, op->orig, op->size, op->alloc, (unsigned int)op->align, op->dir,
					  op->attrs, (unsigned int)op->cpu, &tlb);
		switch (r) {
		case KV_OK:
			m->state = ID_LIVE;
			m->tlb = tlb;
			printf("map id=%s tlb=0x%" PRIx64 " used=%lu\n", op->id, tlb, kv_used());
			break;
		case KV_FULL:
			m->state = ID_FAILED;
			printf("map id=%s error=full used=%lu\n", op->id, kv_used());
			break;
		case KV_INVALID_SIZE:
			m->state = ID_FAILED;
			printf("map id=%s error=invalid-size\n", op->id);
			break;
		case KV_HANG:
			if (continue_after_hang) {
				m->state = ID_FAILED;
				printf("map id=%s hang area=%u\n", op->id, kv_hang_area());
				break;
			}
			escape("map", op->id, r);
		default:
			escape("map", op->id, r);
		}
		break;
	}
	case OP_UNMAP:
	case OP_SYNC: {
		const char *name = op->kind == OP_UNMAP ? "unmap" : "sync";
		if (!m)
			fail("unknown id", token);
		if (m->state == ID_FAILED) {
			printf("%s id=%s skipped=map-failed\n", name, op->id);
			if (op->kind == OP_UNMAP)
				m->state = ID_IDLE;
			break;
		}
		if (m->state != ID_LIVE)
			fail("id is not mapped", token);
		enum kv_result r = op->kind == OP_UNMAP
			? kv_unmap(&m->dev, m->tlb, m->size, m->alloc, m->dir, m->attrs)
			: kv_sync(&m->dev, m->tlb, m->size, m->dir, op->to_cpu);
		if (r != KV_OK)
			escape(name, op->id, r);
		if (op->kind == OP_UNMAP) {
			m->state = ID_IDLE;
			printf("unmap id=%s used=%lu\n", op->id, kv_used());
		}
		break;
	}
	default:
		break;
	}
}

static void finish(void)
{
	if (!have_pool)
		return;
	if (v511) {
		unsigned long used;
		unsigned int index;
		kv_area(0, &used, &index);
		printf("final used=%lu index=%u\n", used, index);
	} else {
		printf("final used=%lu\n", kv_used());
	}
	for (unsigned int i = 0; !v511 && i < kv_nareas(); i++) {
		unsigned long used;
		unsigned int index;
		kv_area(i, &used, &index);
		printf("area %u used=%lu index=%u\n", i, used, index);
	}
	if (dynamic) {
		uint64_t start;
		unsigned long nslabs, used;
		unsigned int nareas;
		for (unsigned int i = 0; kv_grown_pool(i, &start, &nslabs, &nareas, &used); i++)
			printf("grown start=0x%" PRIx64 " nslabs=%lu areas=%u used=%lu\n", start, nslabs, nareas, used);
		printf("transient nslabs=%lu\n", kv_transient_nslabs());
	}
	uint64_t h = 0xcbf29ce484222325ULL;
	for (unsigned long s = 0; s < kv_nslabs(); s++) {
		uint32_t v = kv_slot_list(s);
		for (int b = 0; b < 4; b++)
			h = (h ^ ((v >> (8 * b)) & 0xff)) * 0x100000001b3ULL;
	}
	printf("checksum list=0x%" PRIx64 "\n", h);
	if (count_bytes)
		printf("bounced bytes=%llu\n", kv_bounced_bytes());
}

int main(int argc, char **argv)
{
	unsigned int possible_cpus = 1;
	int a = 1;
	v511 = !strcmp(kv_kernel, "v5.11");
	dynamic = !strcmp(kv_kernel, "v6.18-dynamic");
	for (; a < argc && argv[a][0] == '-' && argv[a][1] == '-'; a++) {
		if (!strcmp(argv[a], "--count-bytes")) {
			count_bytes = true;
		} else if (!strcmp(argv[a], "--continue-after-hang")) {
			continue_after_hang = true;
		} else if (a + 1 < argc && !strcmp(argv[a], "--possible-cpus")) {
			char *end;
			errno = 0;
			unsigned long n = strtoul(argv[a + 1], &end, 10);
			if (errno || *end || n == 0 || n > 8192) {
				fprintf(stderr, "kv-replay: --possible-cpus must be 1...8192: '%.80s'\n", argv[a + 1]);
				return 2;
			}
			possible_cpus = (unsigned int)n;
			a++;
		} else if (dynamic && a + 1 < argc && !strcmp(argv[a], "--grow-memory")) {
			unsigned long long s0, e0;
			char tail;
			if (sscanf(argv[a + 1], "0x%llx-0x%llx%c", &s0, &e0, &tail) != 2 || !s0 || s0 >= e0 ||
			    (s0 | e0) & 0xfff || e0 - s0 > (1ULL << 32)) {
				fprintf(stderr, "kv-replay: --grow-memory must be 0x<START>-0x<END>, page aligned, start above 0, at most 4 GiB: '%.80s'\n", argv[a + 1]);
				return 2;
			}
			grow_start = s0;
			grow_end = e0;
			a++;
		} else if (dynamic && a + 1 < argc && !strcmp(argv[a], "--grow-limit")) {
			unsigned long long l;
			char tail;
			if (sscanf(argv[a + 1], "0x%llx%c", &l, &tail) != 1) {
				fprintf(stderr, "kv-replay: --grow-limit must be 0x<HEX>: '%.80s'\n", argv[a + 1]);
				return 2;
			}
			grow_limit = l;
			a++;
		} else {
			break;
		}
	}
	if (dynamic && !grow_end) {
		fprintf(stderr, "kv-replay: %s needs --grow-memory\n", kv_kernel);
		return 2;
	}
	if (a + 1 != argc) {
		fprintf(stderr, "usage: kv-replay61|kv-replay511|kv-replay618[-dynamic] [--count-bytes] [--continue-after-hang] [--possible-cpus N] [--grow-memory 0x<START>-0x<END>] [--grow-limit 0x<L>] <trace | ->\n");
		return 2;
	}
	trace_name = argv[a];
	FILE *f = strcmp(trace_name, "-") ? fopen(trace_name, "r") : stdin;
	if (!f) {
		fprintf(stderr, "kv-replay: cannot open '%.80s': %s\n", trace_name, strerror(errno));
		return 2;
	}
	char line[LINE_BYTES + 1];
	for (;;) {
		/* One line, bounded: a longer line or a NUL byte stops the run. */
		size_t n = 0;
		int c;
		while ((c = getc(f)) != EOF && c != '\n') {
			if (n == LINE_BYTES) {
				line_no++;
				fail("line longer than 4096 bytes", "");
			}
			if (c == 0) {
				line_no++;
				fail("NUL byte in line", "");
			}
			line[n++] = (char)c;
		}
		if (c == EOF && n == 0)
			break;
		line[n] = 0;
		line_no++;
		char *hash = strchr(line, '#');
		if (hash)
			*hash = 0;
		struct op op;
		if (parse(line, &op))
			run(&op, possible_cpus);
		if (c == EOF)
			break;
	}
	if (ferror(f)) {
		fprintf(stderr, "kv-replay: reading '%.80s' failed\n", trace_name);
		return 2;
	}
	finish();
	return 0;
}
