/* Preloaded into programs run under `make valgrind` whose netbackd is
 * checked too: valgrind 3.19 (Debian 12) does not know the epoll_pwait2
 * system call and fails it with ENOSYS, so netbackd's workers, which wait
 * in it, would spin instead of sleeping. This maps it onto epoll_pwait
 * with the timeout rounded up to whole milliseconds (sleeping a little
 * longer is harmless; waking early would spin). Never used outside
 * valgrind runs. */
#define _GNU_SOURCE
#include <signal.h>
#include <sys/epoll.h>
#include <time.h>

int epoll_pwait2(int epfd, struct epoll_event *events, int maxevents,
		 const struct timespec *timeout, const sigset_t *sigmask)
{
	int ms = -1;

	if (timeout) {
		long long ns = (long long)timeout->tv_sec * 1000000000LL + timeout->tv_nsec;
		long long up = (ns + 999999) / 1000000;

		ms = up > 0x7fffffff ? 0x7fffffff : (int)up;
	}
	return epoll_pwait(epfd, events, maxevents, ms, sigmask);
}
