/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers shared by the xtcp selftests: knobs, /proc files and small
 * socket utilities. Everything returns -errno instead of exiting so that
 * the harness assertions report what went wrong.
 */
#ifndef _XTCP_TEST_H
#define _XTCP_TEST_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <linux/xtcp.h>

#define XTCP_SYSCTL_DIR "/proc/sys/net/xtcp/"

/*
 * Harness timeouts, scaled for slow kernels: the debug lane (KASAN,
 * lockdep) builds the tests with XTCP_TIMEOUT_SCALE=10. Only the harness's
 * limits grow; what a test asserts stays the same.
 */
#ifndef XTCP_TIMEOUT_SCALE
#define XTCP_TIMEOUT_SCALE 1
#endif
#define XTCP_TIMEOUT(s) ((s) * XTCP_TIMEOUT_SCALE)
#ifdef TEST_TIMEOUT_DEFAULT
#undef TEST_TIMEOUT_DEFAULT
#define TEST_TIMEOUT_DEFAULT XTCP_TIMEOUT(30)
#endif

/* Read a whole small file into buf (NUL-terminated); -errno on failure. */
static inline int xtcp_read_file(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	buf[n] = '\0';
	close(fd);
	return 0;
}

/* Write a string to a file in one write(); -errno on failure. */
static inline int xtcp_write_file(const char *path, const char *val)
{
	ssize_t n;
	int fd;

	fd = open(path, O_WRONLY);
	if (fd < 0)
		return -errno;
	n = write(fd, val, strlen(val));
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	return n == (ssize_t)strlen(val) ? 0 : -EIO;
}

static inline int xtcp_sysctl_get(const char *name, long *val)
{
	char path[128], buf[64], *end;
	int err;

	snprintf(path, sizeof(path), XTCP_SYSCTL_DIR "%s", name);
	err = xtcp_read_file(path, buf, sizeof(buf));
	if (err)
		return err;
	errno = 0;
	*val = strtol(buf, &end, 10);
	if (errno || end == buf || (*end != '\n' && *end != '\0'))
		return -EINVAL;
	return 0;
}

static inline int xtcp_sysctl_set_str(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), XTCP_SYSCTL_DIR "%s", name);
	return xtcp_write_file(path, val);
}

static inline int xtcp_sysctl_set(const char *name, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", val);
	return xtcp_sysctl_set_str(name, buf);
}

/* Value of counter @name in /proc/net/xtcp_stats, or -errno. */
static inline long xtcp_counter(const char *name)
{
	char line[128], key[64];
	long found = -ENOENT;
	unsigned long v;
	FILE *f;

	f = fopen("/proc/net/xtcp_stats", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%63s %lu", key, &v) == 2 && !strcmp(key, name)) {
			found = (long)v;
			break;
		}
	}
	fclose(f);
	return found;
}

#endif /* _XTCP_TEST_H */
