/* Client side of the xensim administration socket, shared by the CLI, its
 * selfcheck and the tests' simenv. */
#ifndef SIM_ADMIN_H
#define SIM_ADMIN_H

#include <stddef.h>

/* Each returns 0 or -errno. */
int sim_admin_ping(const char *dir);
/* gntalloc_limit: the guest kernel's xen_gntalloc.limit (0: Linux's 1024). */
int sim_admin_create(const char *dir, unsigned domid_or_any, const char *name,
		     unsigned gntalloc_limit, unsigned *domid);
int sim_admin_destroy(const char *dir, unsigned domid);
int sim_admin_stop(const char *dir);
/* Text "domid name\n" per domain into buf (NUL-terminated). */
int sim_admin_list(const char *dir, char *buf, size_t cap);

#endif
