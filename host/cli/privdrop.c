/*
 * privdrop.c - becoming an unprivileged user once the device is open.
 *
 * Order matters: supplementary groups, then the group, then the user (a
 * process that is no longer root cannot change its groups). Then every
 * capability set is emptied (setuid from root already clears the permitted
 * and effective sets unless PR_SET_KEEPCAPS is on; we clear keep-caps and
 * the bounding and ambient sets explicitly so no exec can regain them),
 * no_new_privs forbids setuid binaries, and we check the result: setuid(0)
 * must fail and no capability may be left.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <grp.h>
#include <linux/capability.h>
#include <pwd.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "cli.h"

static int cap_sets_empty(char *err, size_t n)
{
	struct __user_cap_header_struct hdr = { .version = _LINUX_CAPABILITY_VERSION_3, .pid = 0 };
	struct __user_cap_data_struct data[2];
	memset(data, 0, sizeof(data));
	if (syscall(SYS_capset, &hdr, data) < 0) {
		snprintf(err, n, "clearing capabilities: %s", strerror(errno));
		return -1;
	}
	memset(data, 0xff, sizeof(data));
	if (syscall(SYS_capget, &hdr, data) < 0) {
		snprintf(err, n, "reading capabilities: %s", strerror(errno));
		return -1;
	}
	for (int i = 0; i < 2; i++)
		if (data[i].effective || data[i].permitted || data[i].inheritable) {
			snprintf(err, n, "capabilities left after dropping them");
			return -1;
		}
	return 0;
}

int drop_privileges(const char *user, char *err, size_t n)
{
	err[0] = '\0';
	struct passwd *pw = getpwnam(user);
	if (!pw) {
		snprintf(err, n, "-Z %s: no such user", user);
		return -1;
	}
	if (geteuid() != 0) {
		/* Already that user (a service manager switched, granting the
		 * capability to open the source as an ambient one): drop it. */
		if (geteuid() != pw->pw_uid || getuid() != pw->pw_uid) {
			snprintf(err, n, "-Z %s: only root can change to another user", user);
			return -1;
		}
		prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
		if (cap_sets_empty(err, n) < 0 || prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
			if (!err[0])
				snprintf(err, n, "-Z %s: no_new_privs: %s", user, strerror(errno));
			return -1;
		}
		return 0;
	}
	for (int cap = 0; cap <= CAP_LAST_CAP; cap++)
		prctl(PR_CAPBSET_DROP, cap, 0, 0, 0); /* EINVAL past the kernel's last: fine */
	prctl(PR_CAP_AMBIENT, PR_CAP_AMBIENT_CLEAR_ALL, 0, 0, 0);
	if (prctl(PR_SET_KEEPCAPS, 0, 0, 0, 0) < 0 || initgroups(pw->pw_name, pw->pw_gid) < 0 ||
	    setresgid(pw->pw_gid, pw->pw_gid, pw->pw_gid) < 0 || setresuid(pw->pw_uid, pw->pw_uid, pw->pw_uid) < 0) {
		snprintf(err, n, "-Z %s: changing to uid %u gid %u: %s", user, (unsigned)pw->pw_uid,
			 (unsigned)pw->pw_gid, strerror(errno));
		return -1;
	}
	if (cap_sets_empty(err, n) < 0)
		return -1;
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0) {
		snprintf(err, n, "-Z %s: no_new_privs: %s", user, strerror(errno));
		return -1;
	}
	/* The proof: root must be out of reach now. */
	if (pw->pw_uid != 0 && (setuid(0) == 0 || seteuid(0) == 0 || setgid(0) == 0)) {
		snprintf(err, n, "-Z %s: could regain root after dropping it", user);
		return -1;
	}
	return 0;
}
