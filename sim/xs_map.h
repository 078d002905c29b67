/* A string-keyed hash map for the emulator's xenstored: node paths to nodes
 * in the database, and to accessed-node records in a transaction. Keys are
 * copied; values are opaque and owned by the caller. */
#ifndef SIM_XS_MAP_H
#define SIM_XS_MAP_H

#include <stddef.h>

struct xs_map;

struct xs_map *xs_map_new(void);
/* Frees the map; free_val (may be NULL) is called on every value. */
void xs_map_free(struct xs_map *map, void (*free_val)(void *val));

void *xs_map_get(const struct xs_map *map, const char *key);
/* Inserts or replaces; a replaced value is returned through *old (or NULL).
 * Returns 0 or ENOMEM. */
int xs_map_put(struct xs_map *map, const char *key, void *val, void **old);
/* Removes the key; returns its value or NULL. */
void *xs_map_remove(struct xs_map *map, const char *key);
size_t xs_map_size(const struct xs_map *map);
/* Calls fn on every entry, in no particular order; fn must not add or
 * remove keys. */
void xs_map_foreach(const struct xs_map *map,
		    void (*fn)(const char *key, void *val, void *ctx), void *ctx);

#endif
