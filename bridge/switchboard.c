#include "bridge/switchboard.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct sb_entry {
    struct sb_entry *next;
    struct nb_bridge *br;
};

struct nb_switchboard {
    pthread_mutex_t lock;
    struct sb_entry *head;      /* creation order */
};

struct nb_switchboard *nb_switchboard_new(void)
{
    struct nb_switchboard *sb = calloc(1, sizeof(*sb));
    if (sb)
        pthread_mutex_init(&sb->lock, NULL);
    return sb;
}

void nb_switchboard_free(struct nb_switchboard *sb)
{
    if (!sb)
        return;
    while (sb->head) {
        struct sb_entry *e = sb->head;
        sb->head = e->next;
        nb_bridge_free(e->br);
        free(e);
    }
    pthread_mutex_destroy(&sb->lock);
    free(sb);
}

static struct sb_entry **find_locked(struct nb_switchboard *sb, const char *name)
{
    struct sb_entry **pp = &sb->head;
    while (*pp && strcmp(nb_bridge_name((*pp)->br), name) != 0)
        pp = &(*pp)->next;
    return pp;
}

struct nb_bridge *nb_switchboard_find(struct nb_switchboard *sb, const char *name)
{
    struct sb_entry *e;

    pthread_mutex_lock(&sb->lock);
    e = *find_locked(sb, name);
    pthread_mutex_unlock(&sb->lock);
    return e ? e->br : NULL;
}

int nb_switchboard_create(struct nb_switchboard *sb, const char *name,
                          const struct nb_bridge_config *cfg, struct nb_bridge **out)
{
    struct sb_entry **pp, *e;
    int rc = 0;

    pthread_mutex_lock(&sb->lock);
    pp = find_locked(sb, name);
    if (*pp) {
        if (out)
            *out = (*pp)->br;
        rc = -EEXIST;
        goto out;
    }
    e = calloc(1, sizeof(*e));
    if (!e) {
        rc = -ENOMEM;
        goto out;
    }
    e->br = nb_bridge_new(name, cfg);
    if (!e->br) {
        rc = -errno;
        free(e);
        goto out;
    }
    *pp = e;
    if (out)
        *out = e->br;
out:
    pthread_mutex_unlock(&sb->lock);
    return rc;
}

int nb_switchboard_remove(struct nb_switchboard *sb, const char *name)
{
    struct sb_entry **pp, *e;

    pthread_mutex_lock(&sb->lock);
    pp = find_locked(sb, name);
    e = *pp;
    if (!e || nb_bridge_port_count(e->br) != 0) {
        pthread_mutex_unlock(&sb->lock);
        return e ? -EBUSY : -ENOENT;
    }
    *pp = e->next;
    pthread_mutex_unlock(&sb->lock);
    nb_bridge_free(e->br);
    free(e);
    return 0;
}

int nb_switchboard_foreach(struct nb_switchboard *sb,
                           int (*fn)(struct nb_bridge *br, void *ctx), void *ctx)
{
    int rc = 0;

    pthread_mutex_lock(&sb->lock);
    for (struct sb_entry *e = sb->head; e && rc == 0; e = e->next)
        rc = fn(e->br, ctx);
    pthread_mutex_unlock(&sb->lock);
    return rc;
}
