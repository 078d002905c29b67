/* The daemon's set of bridges, by name: a vif finds its bridge through the
 * `bridge` key xl writes in its backend directory, config and control
 * socket create and remove them. All calls are thread-safe; a bridge
 * pointer stays valid until nb_switchboard_remove() of that name. */
#ifndef NB_SWITCHBOARD_H
#define NB_SWITCHBOARD_H

#include "bridge/bridge.h"

struct nb_switchboard;

struct nb_switchboard *nb_switchboard_new(void);
/* Frees every bridge (and with them their ports). */
void nb_switchboard_free(struct nb_switchboard *sb);
struct nb_bridge *nb_switchboard_find(struct nb_switchboard *sb, const char *name);
/* Creates a bridge; -EEXIST if the name is taken (*out then names it). */
int nb_switchboard_create(struct nb_switchboard *sb, const char *name,
                          const struct nb_bridge_config *cfg, struct nb_bridge **out);
/* Removes and frees a bridge: -ENOENT, or -EBUSY while it still has ports. */
int nb_switchboard_remove(struct nb_switchboard *sb, const char *name);
/* Calls fn for each bridge (in creation order) under the switchboard lock;
 * stops at the first nonzero return and returns it. */
int nb_switchboard_foreach(struct nb_switchboard *sb,
                           int (*fn)(struct nb_bridge *br, void *ctx), void *ctx);

#endif
