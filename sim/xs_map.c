/* Chained hash map with power-of-two buckets, grown at load factor 1. */
#include "sim/xs_map.h"

#include <errno.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

struct xs_map_entry {
	struct xs_map_entry *next;
	uint64_t hash;
	void *val;
	char key[];
};

struct xs_map {
	struct xs_map_entry **buckets;
	size_t nbuckets;
	size_t size;
};

enum { XS_MAP_MIN_BUCKETS = 64 };

static uint64_t key_hash(const char *key)
{
	/* FNV-1a: paths are short and this is not exposed to collisions
	 * that matter more than a slower lookup. */
	uint64_t h = 0xcbf29ce484222325ULL;

	for (; *key; key++) {
		h ^= (unsigned char)*key;
		h *= 0x100000001b3ULL;
	}
	return h;
}

struct xs_map *xs_map_new(void)
{
	struct xs_map *map = calloc(1, sizeof(*map));

	if (!map)
		return NULL;
	map->buckets = calloc(XS_MAP_MIN_BUCKETS, sizeof(*map->buckets));
	if (!map->buckets) {
		free(map);
		return NULL;
	}
	map->nbuckets = XS_MAP_MIN_BUCKETS;
	return map;
}

void xs_map_free(struct xs_map *map, void (*free_val)(void *val))
{
	if (!map)
		return;
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct xs_map_entry *e = map->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			if (free_val)
				free_val(e->val);
			free(e);
		}
	}
	free(map->buckets);
	free(map);
}

static struct xs_map_entry **find_slot(const struct xs_map *map, const char *key,
				       uint64_t hash)
{
	struct xs_map_entry **slot = &map->buckets[hash & (map->nbuckets - 1)];

	for (; *slot; slot = &(*slot)->next)
		if ((*slot)->hash == hash && !strcmp((*slot)->key, key))
			break;
	return slot;
}

void *xs_map_get(const struct xs_map *map, const char *key)
{
	struct xs_map_entry *e = *find_slot(map, key, key_hash(key));

	return e ? e->val : NULL;
}

static void grow(struct xs_map *map)
{
	size_t n = map->nbuckets * 2;
	struct xs_map_entry **b = calloc(n, sizeof(*b));

	if (!b)
		return; /* keep working with longer chains */
	for (size_t i = 0; i < map->nbuckets; i++) {
		struct xs_map_entry *e = map->buckets[i], *next;

		for (; e; e = next) {
			next = e->next;
			e->next = b[e->hash & (n - 1)];
			b[e->hash & (n - 1)] = e;
		}
	}
	free(map->buckets);
	map->buckets = b;
	map->nbuckets = n;
}

int xs_map_put(struct xs_map *map, const char *key, void *val, void **old)
{
	uint64_t hash = key_hash(key);
	struct xs_map_entry **slot = find_slot(map, key, hash);
	size_t klen;

	if (old)
		*old = NULL;
	if (*slot) {
		if (old)
			*old = (*slot)->val;
		(*slot)->val = val;
		return 0;
	}
	klen = strlen(key) + 1;
	*slot = malloc(sizeof(**slot) + klen);
	if (!*slot)
		return ENOMEM;
	(*slot)->next = NULL;
	(*slot)->hash = hash;
	(*slot)->val = val;
	memcpy((*slot)->key, key, klen);
	if (++map->size > map->nbuckets)
		grow(map);
	return 0;
}

void *xs_map_remove(struct xs_map *map, const char *key)
{
	struct xs_map_entry **slot = find_slot(map, key, key_hash(key));
	struct xs_map_entry *e = *slot;
	void *val;

	if (!e)
		return NULL;
	*slot = e->next;
	val = e->val;
	free(e);
	map->size--;
	return val;
}

size_t xs_map_size(const struct xs_map *map)
{
	return map->size;
}

void xs_map_foreach(const struct xs_map *map,
		    void (*fn)(const char *key, void *val, void *ctx), void *ctx)
{
	for (size_t i = 0; i < map->nbuckets; i++)
		for (struct xs_map_entry *e = map->buckets[i]; e; e = e->next)
			fn(e->key, e->val, ctx);
}
