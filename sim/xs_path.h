/* Xenstore node names as xenstored accepts them: absolute, no empty
 * components, a restricted alphabet, bounded length. Relative names are
 * resolved against the connection's /local/domain/<id>. */
#ifndef SIM_XS_PATH_H
#define SIM_XS_PATH_H

#include <stdbool.h>

/* A well-formed absolute node name (not a special "@" name). The length
 * bound applies after a /local/domain/<id>/ prefix, as in xenstored. */
bool xs_path_is_valid(const char *path);
/* Special watch names: "@introduceDomain", "@releaseDomain", ... */
bool xs_path_is_special(const char *path);
/* malloc'd absolute name: relative names get "/local/domain/<domid>/"
 * prepended; absolute and special names are copied unchanged. */
char *xs_path_canonical(unsigned domid, const char *path);
/* malloc'd "/local/domain/<domid>". */
char *xs_path_domain(unsigned domid);
/* malloc'd parent name of a valid absolute name other than "/". */
char *xs_path_parent(const char *path);
/* The last component of a valid absolute name other than "/". */
const char *xs_path_basename(const char *path);
/* malloc'd "parent/child" (no double slash under "/"). */
char *xs_path_child(const char *parent, const char *child);
/* child is parent itself or lies below it; everything is below "/". */
bool xs_path_is_below(const char *child, const char *parent);

#endif
