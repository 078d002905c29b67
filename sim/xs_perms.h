/* Node permissions as xenstored keeps them: entry 0 names the owner and the
 * access of every domain not listed; further entries grant one domain
 * XS_PERM_READ/WRITE. Wire form: one NUL-terminated string per entry, a
 * letter (n, r, w, b) followed by the domid, e.g. "n0" "r5". */
#ifndef SIM_XS_PERMS_H
#define SIM_XS_PERMS_H

#include <stdbool.h>
#include <xenstore_lib.h>

struct xs_perms {
	unsigned num;                /* >= 1 for a node */
	struct xs_permissions *p;
};

/* Only the control domain is privileged in the emulator. */
static inline bool xs_domid_is_privileged(unsigned domid)
{
	return domid == 0;
}

/* Parses `num` consecutive NUL-terminated entries at `strings`.
 * Returns 0, EINVAL or ENOMEM; *out is untouched on error. */
int xs_perms_parse(const char *strings, unsigned num, struct xs_perms *out);
/* malloc'd wire form, *len bytes including every NUL. */
char *xs_perms_format(const struct xs_perms *perms, unsigned *len);
/* What `domid` may do: XS_PERM_READ|WRITE|OWNER for the privileged domain
 * and the owner, else its own entry, else entry 0's access. */
unsigned xs_perms_for(const struct xs_perms *perms, unsigned domid);
/* One-entry list. Returns 0 or ENOMEM. */
int xs_perms_single(struct xs_perms *out, unsigned owner, unsigned access);
int xs_perms_copy(struct xs_perms *dst, const struct xs_perms *src);
/* Drops the entries (after the owner's) that name domid. */
void xs_perms_drop_domid(struct xs_perms *perms, unsigned domid);
void xs_perms_free(struct xs_perms *perms);

#endif
