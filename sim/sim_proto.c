/* Framing of the emulator's control messages (see sim_proto.h). */
#include "sim/sim_proto.h"

#include <errno.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int sim_msg_send(int sock, const struct sim_msg *m, const void *payload, size_t len,
		 const int *fds, unsigned nfds)
{
	struct iovec iov[2] = {
		{ .iov_base = (void *)m, .iov_len = sizeof(*m) },
		{ .iov_base = (void *)payload, .iov_len = len },
	};
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = { .msg_iov = iov, .msg_iovlen = len ? 2 : 1 };
	ssize_t r;

	if (nfds > SIM_MAX_FDS || sizeof(*m) + len > SIM_MSG_MAX)
		return -EINVAL;
	if (nfds) {
		struct cmsghdr *c;

		memset(&ctl, 0, sizeof(ctl));
		mh.msg_control = ctl.buf;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	do {
		r = sendmsg(sock, &mh, MSG_NOSIGNAL);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	return 0;
}

long sim_msg_recv(int sock, void *buf, size_t cap, int *fds, unsigned *nfds)
{
	struct iovec iov = { .iov_base = buf, .iov_len = cap };
	union {
		char buf[CMSG_SPACE(sizeof(int) * SIM_MAX_FDS)];
		struct cmsghdr align;
	} ctl;
	struct msghdr mh = {
		.msg_iov = &iov,
		.msg_iovlen = 1,
		.msg_control = ctl.buf,
		.msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	ssize_t r;

	*nfds = 0;
	for (unsigned i = 0; i < SIM_MAX_FDS; i++)
		fds[i] = -1;
	do {
		r = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC);
	} while (r < 0 && errno == EINTR);
	if (r < 0)
		return -errno;
	for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		unsigned n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		int tmp[SIM_MAX_FDS];

		if (n > SIM_MAX_FDS)
			n = SIM_MAX_FDS;
		memcpy(tmp, CMSG_DATA(c), n * sizeof(int));
		for (unsigned i = 0; i < n; i++) {
			if (*nfds < SIM_MAX_FDS)
				fds[(*nfds)++] = tmp[i];
			else
				close(tmp[i]);
		}
	}
	if (mh.msg_flags & (MSG_TRUNC | MSG_CTRUNC)) {
		for (unsigned i = 0; i < *nfds; i++) {
			close(fds[i]);
			fds[i] = -1;
		}
		*nfds = 0;
		return -EMSGSIZE;
	}
	return (long)r;
}

int sim_call(int sock, const struct sim_msg *req, const void *payload, size_t len,
	     const int *fds, unsigned nfds, void *reply_buf, int *rfds, unsigned *nrfds)
{
	const struct sim_msg *rep = reply_buf;
	int dummy[SIM_MAX_FDS];
	unsigned ndummy;
	long n;
	int rc;

	if (!rfds) {
		rfds = dummy;
		nrfds = &ndummy;
	}
	*nrfds = 0;
	rc = sim_msg_send(sock, req, payload, len, fds, nfds);
	if (rc)
		return rc;
	n = sim_msg_recv(sock, reply_buf, SIM_MSG_MAX, rfds, nrfds);
	if (n < 0)
		return (int)n;
	if (n == 0)
		rc = -ECONNRESET;
	else if ((size_t)n < sizeof(*rep) || rep->magic != SIM_PROTO_MAGIC || rep->op != req->op)
		rc = -EPROTO;
	else if (rep->err)
		rc = -rep->err;
	if (rc || rfds == dummy) {
		for (unsigned i = 0; i < *nrfds; i++) {
			close(rfds[i]);
			rfds[i] = -1;
		}
		*nrfds = 0;
	}
	return rc;
}

int sim_connect(const char *path)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	int fd;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	strcpy(sa.sun_path, path);
	fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		int e = errno;

		close(fd);
		return -e;
	}
	return fd;
}
