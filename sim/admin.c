/* Requests on $XENSIM_DIR/ctl.sock. */
#include "sim/admin.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "sim/sim_proto.h"

static int admin_call(const char *dir, struct sim_msg *req, const void *payload, size_t len,
		      char *out, size_t cap)
{
	char path[PATH_MAX];
	char *rep = calloc(1, SIM_MSG_MAX); /* zeros end the text payload */
	int fd, rc;

	if (!rep)
		return -ENOMEM;
	snprintf(path, sizeof(path), "%s/ctl.sock", dir);
	fd = sim_connect(path);
	if (fd < 0) {
		free(rep);
		return fd;
	}
	req->magic = SIM_PROTO_MAGIC;
	rc = sim_call(fd, req, payload, len, NULL, 0, rep, NULL, NULL);
	if (!rc) {
		*req = *(struct sim_msg *)rep;
		if (out && cap) {
			/* the payload is text; its length is what the header leaves */
			size_t n = strnlen(rep + sizeof(struct sim_msg),
					   SIM_MSG_MAX - sizeof(struct sim_msg));

			if (n >= cap)
				n = cap - 1;
			memcpy(out, rep + sizeof(struct sim_msg), n);
			out[n] = 0;
		}
	}
	close(fd);
	free(rep);
	return rc;
}

int sim_admin_ping(const char *dir)
{
	struct sim_msg m = { .op = SIM_OP_PING };

	return admin_call(dir, &m, NULL, 0, NULL, 0);
}

int sim_admin_create(const char *dir, unsigned domid_or_any, const char *name,
		     unsigned gntalloc_limit, unsigned *domid)
{
	struct sim_msg m = { .op = SIM_OP_DOM_CREATE, .a = domid_or_any, .b = gntalloc_limit };
	int rc = admin_call(dir, &m, name, name ? strlen(name) : 0, NULL, 0);

	if (!rc && domid)
		*domid = m.a;
	return rc;
}

int sim_admin_destroy(const char *dir, unsigned domid)
{
	struct sim_msg m = { .op = SIM_OP_DOM_DESTROY, .a = domid };

	return admin_call(dir, &m, NULL, 0, NULL, 0);
}

int sim_admin_stop(const char *dir)
{
	struct sim_msg m = { .op = SIM_OP_STOP };

	return admin_call(dir, &m, NULL, 0, NULL, 0);
}

int sim_admin_list(const char *dir, char *buf, size_t cap)
{
	struct sim_msg m = { .op = SIM_OP_LIST };

	return admin_call(dir, &m, NULL, 0, buf, cap);
}
