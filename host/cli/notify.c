/*
 * notify.c - the systemd notification protocol, without libsystemd.
 *
 * A datagram "READY=1", "WATCHDOG=1", "STATUS=..." to the unix socket named
 * by $NOTIFY_SOCKET (a leading '@' means the abstract namespace). Nothing
 * happens when the variable is unset: run by hand, fcap is not a service.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "cli.h"

int service_notify(const char *state)
{
	const char *path = getenv("NOTIFY_SOCKET");
	if (!path || !*path)
		return 0;
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	size_t n = strlen(path);
	if (n >= sizeof(sa.sun_path) || (path[0] != '/' && path[0] != '@'))
		return -1;
	memcpy(sa.sun_path, path, n);
	if (path[0] == '@')
		sa.sun_path[0] = '\0';
	int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	ssize_t w = sendto(fd, state, strlen(state), MSG_NOSIGNAL, (struct sockaddr *)&sa,
			   (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n));
	close(fd);
	return w < 0 ? -1 : 1;
}

uint64_t service_watchdog_ns(void)
{
	const char *usec = getenv("WATCHDOG_USEC");
	const char *pid = getenv("WATCHDOG_PID");
	if (!usec || !*usec)
		return 0;
	if (pid && *pid && strtoul(pid, NULL, 10) != (unsigned long)getpid())
		return 0;
	char *end;
	unsigned long long us = strtoull(usec, &end, 10);
	return *end || us == 0 ? 0 : (uint64_t)us * 1000u;
}
