/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Plain helpers shared by the selftests, the programs they drive and
 * tools/xtcp_bench: small files such as sysctls and /proc entries, the
 * /proc/slabinfo line of a cache, and a pseudo-random generator. No
 * harness and no exits: everything returns 0 or -errno.
 */
#ifndef _XTCP_UTIL_H
#define _XTCP_UTIL_H

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <linux/types.h>

/*
 * Read @path into @buf, NUL-terminated: the whole file, or as much as
 * fits in @len - 1 bytes. 0 or -errno.
 */
static inline int xtcp_read_file(const char *path, char *buf, size_t len)
{
	size_t got = 0;
	ssize_t n = 0;
	int fd;

	fd = open(path, O_RDONLY);
	if (fd < 0)
		return -errno;
	while (got < len - 1 &&
	       (n = read(fd, buf + got, len - 1 - got)) > 0)
		got += n;
	if (n < 0)
		n = -errno;
	buf[got] = '\0';
	close(fd);
	return n < 0 ? n : 0;
}

/* Write the string @val to @path in one write(); 0 or -errno. */
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

/* Write "@val\n" to @path (a sysctl, say); 0 or -errno. */
static inline int xtcp_write_long(const char *path, long val)
{
	char buf[32];

	snprintf(buf, sizeof(buf), "%ld\n", val);
	return xtcp_write_file(path, buf);
}

/* A cache as /proc/slabinfo shows it. */
struct xtcp_slab {
	long active;		/* objects in use */
	long total;		/* objects in the cache's slabs */
	long objsize;		/* bytes per object, debug metadata included */
	long per_slab;		/* objects per slab */
	long pages;		/* pages per slab */
	long slabs;		/* slabs */
};

/* The /proc/slabinfo line of cache @name: 0, -ENOENT or -errno. */
static inline int xtcp_slab_read(const char *name, struct xtcp_slab *s)
{
	char line[512], cname[128];
	int err = -ENOENT;
	FILE *f;

	f = fopen("/proc/slabinfo", "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %ld %ld %ld %ld %ld : tunables %*d %*d %*d : slabdata %*d %ld",
			   cname, &s->active, &s->total, &s->objsize,
			   &s->per_slab, &s->pages, &s->slabs) == 7 &&
		    !strcmp(cname, name)) {
			err = 0;
			break;
		}
	}
	fclose(f);
	return err;
}

/*
 * SplitMix64 (Steele, Lea, Flood; the constants of Vigna's version): a
 * well-mixed 64-bit value for each @x, for test data and seeds.
 */
static inline __u64 xtcp_splitmix64(__u64 x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

#endif /* _XTCP_UTIL_H */
