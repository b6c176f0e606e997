#include "swiotlb_reference.h"
#include "swiotlb_pool.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define ID_MAX 32
#define LINE_MAX_BYTES 512

/* A live mapping by id; `state` 0 empty, 1 held, 2 deleted (a tombstone). */
struct entry {
    char id[ID_MAX];
    int slot, nslots, state;
};

/* Open addressing with linear probing over a power-of-two table keyed by FNV-1a. */
struct table {
    struct entry *e;
    size_t mask, held, filled;
};

static uint64_t fnv1a(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ULL;
    while (*s)
        h = (h ^ (unsigned char)*s++) * 0x100000001b3ULL;
    return h;
}

/* The held entry for `id`, or NULL. */
static struct entry *table_find(const struct table *t, const char *id)
{
    size_t i = fnv1a(id) & t->mask;
    for (; t->e[i].state; i = (i + 1) & t->mask)
        if (t->e[i].state == 1 && strcmp(t->e[i].id, id) == 0)
            return &t->e[i];
    return NULL;
}

/* Rebuilds the table without tombstones. */
static int table_rehash(struct table *t)
{
    struct entry *old = t->e;
    size_t i, j, size = t->mask + 1;

    t->e = calloc(size, sizeof(*t->e));
    if (!t->e)
        return -1;
    for (i = 0; i < size; i++) {
        if (old[i].state != 1)
            continue;
        for (j = fnv1a(old[i].id) & t->mask; t->e[j].state; j = (j + 1) & t->mask)
            ;
        t->e[j] = old[i];
    }
    t->filled = t->held;
    free(old);
    return 0;
}

/* Inserts `id` (not held); NULL when memory runs out. */
static struct entry *table_insert(struct table *t, const char *id)
{
    size_t i;

    if ((t->filled + 1) * 4 > (t->mask + 1) * 3 && table_rehash(t))
        return NULL;
    for (i = fnv1a(id) & t->mask; t->e[i].state == 1; i = (i + 1) & t->mask)
        ;
    if (t->e[i].state == 0)
        t->filled++;
    t->held++;
    t->e[i].state = 1;
    strcpy(t->e[i].id, id);
    return &t->e[i];
}

long swiotlb_ref_replay(const char *trace_path, const char *output_path)
{
    char line[LINE_MAX_BYTES];
    struct pool p = { 0 };
    struct table t = { 0 };
    uint64_t start = 0, hash = 0xcbf29ce484222325ULL;
    long ops = 0, number = 0, rc = -1;
    int have_pool = 0, i;
    FILE *in = fopen(trace_path, "r"), *out = fopen(output_path, "w");

    if (!in || !out)
        goto done;
    while (fgets(line, sizeof(line), in)) {
        char *op = strtok(line, " \t\r\n"), *tok, *id = NULL;
        uint64_t orig = 0, size = 0, nslabs = 0;

        number++;
        if (!op || op[0] == '#')
            continue;
        while ((tok = strtok(NULL, " \t\r\n"))) {
            char *value = strchr(tok, '=');
            if (!value)
                goto bad;
            *value++ = 0;
            if (!strcmp(tok, "id"))
                id = value;
            else if (!strcmp(tok, "orig"))
                orig = strtoull(value, NULL, 16);
            else if (!strcmp(tok, "size"))
                size = strtoull(value, NULL, 10);
            else if (!strcmp(tok, "nslabs"))
                nslabs = strtoull(value, NULL, 10);
            else if (!strcmp(tok, "start"))
                start = strtoull(value, NULL, 16);
            /* dir and attrs: the maps of this trace skip the CPU sync, so nothing is copied. */
        }
        if (!strcmp(op, "pool")) {
            if (have_pool || pool_init(&p, (int)nslabs, start, ~0ULL))
                goto bad;
            have_pool = 1;
            t.mask = 1;
            while (t.mask + 1 < nslabs * 2)
                t.mask = t.mask * 2 + 1;
            t.e = calloc(t.mask + 1, sizeof(*t.e));
            if (!t.e)
                goto bad;
        } else if (!strcmp(op, "map") && have_pool && id && strlen(id) < ID_MAX && !table_find(&t, id)) {
            int nslots = (int)((size + (1 << SLOT_SHIFT) - 1) >> SLOT_SHIFT);
            int slot = pool_alloc(&p, nslots, size >= 4096 ? 2 : 1);
            struct entry *e;
            if (slot < 0) {
                fprintf(out, "map id=%s error=full used=%d\n", id, p.used);
            } else {
                for (i = 0; i < nslots; i++)
                    p.orig[slot + i] = orig + ((uint64_t)i << SLOT_SHIFT);
                if (!(e = table_insert(&t, id)))
                    goto bad;
                e->slot = slot;
                e->nslots = nslots;
                fprintf(out, "map id=%s tlb=0x%llx used=%d\n", id,
                        (unsigned long long)(start + ((uint64_t)slot << SLOT_SHIFT)), p.used);
            }
            ops++;
        } else if (!strcmp(op, "unmap") && id) {
            struct entry *e = table_find(&t, id);
            if (!e)
                goto bad;
            pool_free(&p, e->slot, e->nslots);
            e->state = 2;
            t.held--;
            fprintf(out, "unmap id=%s used=%d\n", id, p.used);
            ops++;
        } else {
            goto bad;
        }
    }
    if (!have_pool)
        goto done;
    /* The closing lines of `xenpv swiotlb replay`: final counts, FNV-1a of the list's bytes. */
    for (i = 0; i < p.nslabs; i++)
        for (int shift = 0; shift < 32; shift += 8)
            hash = (hash ^ ((p.list[i] >> shift) & 0xff)) * 0x100000001b3ULL;
    fprintf(out, "final used=%d index=%d\nchecksum list=0x%llx\n", p.used, p.index, (unsigned long long)hash);
    rc = ops;
    goto done;
bad:
    fprintf(stderr, "%s:%ld: not a line this reference replays\n", trace_path, number);
done:
    if (in)
        fclose(in);
    if (out)
        fclose(out);
    free(t.e);
    pool_destroy(&p);
    return rc;
}
