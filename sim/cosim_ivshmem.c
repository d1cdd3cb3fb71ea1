/*
 * cosim_ivshmem.c - the server side of QEMU's ivshmem protocol, for one guest.
 *
 * Written from the protocol's description in QEMU's docs/specs/ivshmem-spec.
 */
#define _GNU_SOURCE
#include "cosim_ivshmem.h"

#include <errno.h>
#include <poll.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "fcap/errbuf.h"
#include "fcap/mbox.h"

#define IVSHMEM_PROTOCOL_VERSION 0

/* One message: a 64-bit little-endian value, and a file descriptor if fd >= 0. */
static int send_msg(int sock, int64_t value, int fd, char *errbuf)
{
	uint8_t data[8];
	for (unsigned i = 0; i < 8; i++)
		data[i] = (uint8_t)((uint64_t)value >> (8 * i));
	struct iovec iov = { .iov_base = data, .iov_len = sizeof(data) };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = { .msg_iov = &iov, .msg_iovlen = 1 };
	if (fd >= 0) {
		memset(&ctl, 0, sizeof(ctl));
		msg.msg_control = ctl.buf;
		msg.msg_controllen = sizeof(ctl.buf);
		struct cmsghdr *c = CMSG_FIRSTHDR(&msg);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int));
		memcpy(CMSG_DATA(c), &fd, sizeof(int));
	}
	if (sendmsg(sock, &msg, MSG_NOSIGNAL) != (ssize_t)sizeof(data))
		return fcap_err(errbuf, "ivshmem: sending message %lld: %s", (long long)value, strerror(errno));
	return 0;
}

int cosim_ivshmem_listen(struct cosim_ivshmem *iv, const char *path, char *errbuf)
{
	struct sockaddr_un addr = { .sun_family = AF_UNIX };
	*iv = (struct cosim_ivshmem){ .listen_fd = -1, .conn_fd = -1, .doorbell_fd = -1, .vector_fd = -1 };
	if (strlen(path) >= sizeof(addr.sun_path))
		return fcap_err(errbuf, "ivshmem: socket path %s: longer than %zu bytes", path,
				sizeof(addr.sun_path) - 1);
	memcpy(addr.sun_path, path, strlen(path) + 1);
	iv->doorbell_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	iv->vector_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	iv->listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (iv->doorbell_fd < 0 || iv->vector_fd < 0 || iv->listen_fd < 0) {
		fcap_err(errbuf, "ivshmem: eventfd or socket: %s", strerror(errno));
		cosim_ivshmem_close(iv);
		return -1;
	}
	unlink(path);
	if (bind(iv->listen_fd, (struct sockaddr *)&addr, sizeof(addr)) < 0 || listen(iv->listen_fd, 1) < 0) {
		fcap_err(errbuf, "ivshmem: socket %s: %s", path, strerror(errno));
		cosim_ivshmem_close(iv);
		return -1;
	}
	return 0;
}

int cosim_ivshmem_accept(struct cosim_ivshmem *iv, int shm_fd, int timeout_ms, char *errbuf)
{
	struct pollfd p = { .fd = iv->listen_fd, .events = POLLIN };
	int n = poll(&p, 1, timeout_ms);
	if (n <= 0)
		return fcap_err(errbuf, "ivshmem: no QEMU connected within %d ms%s%s", timeout_ms,
				n < 0 ? ": " : "", n < 0 ? strerror(errno) : "");
	iv->conn_fd = accept4(iv->listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (iv->conn_fd < 0)
		return fcap_err(errbuf, "ivshmem: accept: %s", strerror(errno));
	/* Version, the guest's id, the memory; then peer 0 (us) with its one
	 * vector, then the guest's own vector 0 (the id says whose it is). */
	if (send_msg(iv->conn_fd, IVSHMEM_PROTOCOL_VERSION, -1, errbuf) < 0 ||
	    send_msg(iv->conn_fd, FCAP_MBOX_GUEST_PEER, -1, errbuf) < 0 ||
	    send_msg(iv->conn_fd, -1, shm_fd, errbuf) < 0 ||
	    send_msg(iv->conn_fd, FCAP_MBOX_SIM_PEER, iv->doorbell_fd, errbuf) < 0 ||
	    send_msg(iv->conn_fd, FCAP_MBOX_GUEST_PEER, iv->vector_fd, errbuf) < 0)
		return -1;
	return 0;
}

int cosim_ivshmem_interrupt(struct cosim_ivshmem *iv, char *errbuf)
{
	if (eventfd_write(iv->vector_fd, 1) < 0)
		return fcap_err(errbuf, "ivshmem: raising the guest's vector: %s", strerror(errno));
	return 0;
}

void cosim_ivshmem_drain(struct cosim_ivshmem *iv)
{
	eventfd_t v;
	(void)eventfd_read(iv->doorbell_fd, &v);
}

void cosim_ivshmem_close(struct cosim_ivshmem *iv)
{
	int *fds[] = { &iv->conn_fd, &iv->listen_fd, &iv->doorbell_fd, &iv->vector_fd };
	for (unsigned i = 0; i < sizeof(fds) / sizeof(fds[0]); i++) {
		if (*fds[i] >= 0)
			close(*fds[i]);
		*fds[i] = -1;
	}
}
