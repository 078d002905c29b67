/* Control socket client: one request line out, one reply line back. */
#include "backend/ctl_client.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#define REPLY_MAX (16u << 20)

static int send_all(int fd, const char *buf, size_t len)
{
    while (len) {
        ssize_t w = send(fd, buf, len, MSG_NOSIGNAL);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            return -1;
        buf += w;
        len -= (size_t)w;
    }
    return 0;
}

json_t *nbd_ctl_call(const char *path, json_t *req)
{
    struct sockaddr_un sa = { .sun_family = AF_UNIX };
    size_t cap = 65536, len = 0;
    char *line = NULL, *buf = NULL, *nl = NULL;
    json_t *reply = NULL;
    int fd = -1, saved;

    if (strlen(path) >= sizeof(sa.sun_path)) {
        errno = ENAMETOOLONG;
        return NULL;
    }
    strcpy(sa.sun_path, path);
    if ((fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
        !(line = json_dumps(req, JSON_COMPACT)))
        goto out;
    len = strlen(line);
    line[len] = '\n';   /* over the terminator */
    if (send_all(fd, line, len + 1))
        goto out;
    if (!(buf = malloc(cap)))
        goto out;
    len = 0;
    while (!(nl = memchr(buf, '\n', len))) {
        if (len == cap) {
            char *nb = cap < REPLY_MAX ? realloc(buf, cap * 2) : NULL;
            if (!nb) {
                errno = EMSGSIZE;
                goto out;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = recv(fd, buf + len, cap - len, 0);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0) {
            if (r == 0)
                errno = ECONNRESET;
            goto out;
        }
        len += (size_t)r;
    }
    reply = json_loadb(buf, (size_t)(nl - buf), 0, NULL);
    if (!reply)
        errno = EBADMSG;
out:
    saved = errno;
    free(line);
    free(buf);
    if (fd >= 0)
        close(fd);
    errno = saved;
    return reply;
}
