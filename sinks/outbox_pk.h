/*
 * outbox_pk.h - the outbox's packed list of primary keys (sinks/shipper.h):
 * what the SQLite sink records of a transaction (sqlite_outbox.c) and the
 * shipper reads back (sinks/postgres/shipper.c). No library is included.
 *
 * A list is entries one after the other, each distinct:
 *
 *   table id (1 byte: the index in outbox_tables[])
 *   then, per primary key column (outbox_tables[id].npk, the table's
 *   leading columns), a tag and the value:
 *     'i' 8 bytes, the integer little-endian
 *     't' or 'b' 4 bytes, the length little-endian, then the bytes
 *        (TEXT or BLOB, as SQLite stores them: a lookup must bind alike)
 *
 * A pk_set builds a list, skipping an entry it already holds (an open
 * addressing table of offsets into the list, keyed by the entry's bytes).
 */
#ifndef RS_OUTBOX_PK_H
#define RS_OUTBOX_PK_H

#include <stddef.h>
#include <stdint.h>

#define OUTBOX_NTABLES 11
#define OUTBOX_PK_MAX 4

/* The recorded tables, in pg_tables' order (sinks/postgres/pg_int.h). */
struct outbox_table {
    const char *name;       /* without "g<N>_" */
    int npk;                /* the leading npk columns are the primary key */
    int rowid;              /* the key is the rowid (INTEGER PRIMARY KEY) */
};
extern const struct outbox_table outbox_tables[OUTBOX_NTABLES];

/* The table id of name "g<N>_<table>" when it starts with 'prefix'
 * ("g<N>_", plen bytes); -1 for any other table. */
int outbox_table_id(const char *name, const char *prefix, size_t plen);

struct pk_set {
    unsigned char *buf;     /* the list */
    size_t len, cap;
    size_t *slots;          /* offset + 1 of each entry; 0 empty */
    size_t nslots, n;
    size_t start;           /* the entry being added */
};

void pk_set_clear(struct pk_set *s);          /* empty, memory kept */
void pk_set_release(struct pk_set *s);
/* Add one entry: begin, one put per key column, end. Each returns -1 when
 * out of memory. pk_set_end gives 1 when the entry is new, 0 when the
 * set held it already (it is then dropped). */
int pk_set_begin(struct pk_set *s, int table);
int pk_set_put_int(struct pk_set *s, int64_t v);
int pk_set_put_bytes(struct pk_set *s, int text, const void *p, size_t n);
int pk_set_end(struct pk_set *s);
/* The same for an entry already packed (n bytes at e). */
int pk_set_add(struct pk_set *s, const unsigned char *e, size_t n);

/* One key column read back from a list. */
struct pk_val {
    char tag;               /* 'i', 't' or 'b' */
    int64_t i;
    const unsigned char *p;
    size_t n;
};

/* The entry at *off of list p[0..len): its table and key columns
 * (borrowed from p); *off moves past it. 1 with an entry, 0 at the end,
 * -1 when the list is malformed. */
int pk_list_next(const unsigned char *p, size_t len, size_t *off, int *table,
                 struct pk_val vals[OUTBOX_PK_MAX]);

#endif
