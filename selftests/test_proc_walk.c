// SPDX-License-Identifier: GPL-2.0
/*
 * /proc/net/xtcp read a piece at a time shows every socket and TIME_WAIT
 * entry exactly once, whatever the size of the reads; TIME_WAIT entries of
 * different durations expire each in its own time, and the cap evicts the
 * first to expire among all durations.
 */

#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define MSL_LONG	600000	/* ms: outlives any test */
#define MAX_LINES	4096

struct proc_read {
	struct xtcp_proc_entry line[MAX_LINES];
	int n;
};

/* Parse the text of /proc/net/xtcp; -1 when a line or the numbering is off. */
static int parse_proc(char *text, struct proc_read *r)
{
	char *save = NULL, *line;

	line = strtok_r(text, "\n", &save);
	if (!line || strncmp(line, "  sl  local_address", 19))
		return -1;
	r->n = 0;
	while ((line = strtok_r(NULL, "\n", &save))) {
		if (r->n == MAX_LINES)
			return -1;
		/* Numbered from 0, no gap. */
		if (xtcp_proc_parse(line, true, &r->line[r->n]) != r->n)
			return -1;
		r->n++;
	}
	return 0;
}

/* Read the whole file with read() calls of @chunk bytes. */
static int read_proc(size_t chunk, struct proc_read *r)
{
	size_t cap = 1 << 20, len = 0;
	char *text = malloc(cap + 1);
	ssize_t n;
	int fd, err;

	if (!text)
		return -1;
	fd = open("/proc/net/xtcp", O_RDONLY);
	if (fd < 0) {
		free(text);
		return -1;
	}
	while (len < cap &&
	       (n = read(fd, text + len, chunk < cap - len ? chunk :
						      cap - len)) > 0)
		len += n;
	close(fd);
	text[len] = '\0';
	err = parse_proc(text, r);
	free(text);
	return err;
}

/* Lines with the addresses, ports and state of @l. */
static int count_line(const struct proc_read *r,
		      const struct xtcp_proc_entry *l)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++) {
		const struct xtcp_proc_entry *e = &r->line[i];

		n += e->laddr == l->laddr && e->lport == l->lport &&
		     e->raddr == l->raddr && e->rport == l->rport &&
		     e->state == l->state;
	}
	return n;
}

static int count_state(const struct proc_read *r, unsigned int st)
{
	int i, n = 0;

	for (i = 0; i < r->n; i++)
		n += r->line[i].state == st;
	return n;
}

/* Is the TIME_WAIT entry of local port @port listed? */
static int tw_listed(const struct proc_read *r, int port)
{
	int i;

	for (i = 0; i < r->n; i++)
		if (r->line[i].state == 6 && r->line[i].lport == (unsigned int)port)
			return 1;
	return 0;
}

/* A listener on 127.0.0.1, its port in *@port; the fd or -1. */
static int listener(int *port)
{
	struct sockaddr_in sin = xtcp_sin("127.0.0.1", 0);
	int fd = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);

	if (fd < 0 || bind(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
	    listen(fd, 128))
		return -1;
	*port = xtcp_local_port(fd);
	return fd;
}

/*
 * One connection to @port that the client closes first, so that its side
 * enters TIME_WAIT for 2 x @msl; the client's local port, or -1. The
 * server's side is gone once it has the ACK of its FIN, which the client
 * sends as it enters TIME_WAIT (however short that turns out to be).
 */
static int make_tw(int lfd, int port, int msl)
{
	struct sockaddr_in sin = xtcp_sin("127.0.0.1", port);
	int c, s, cport;

	c = socket(AF_INET, SOCK_STREAM, IPPROTO_XTCP);
	if (c < 0 || xtcp_set_int(c, SOL_XTCP, XTCP_MSL, msl) ||
	    connect(c, (struct sockaddr *)&sin, sizeof(sin)))
		return -1;
	s = accept(lfd, NULL, NULL);
	if (s < 0)
		return -1;
	cport = xtcp_local_port(c);
	close(c);
	/* Our FIN is acknowledged once the server sees EOF. */
	if (xtcp_wait_fd(s, POLLIN, 20000) <= 0)
		return -1;
	close(s);
	if (!xtcp_wait_until(xtcp_proc_count("/proc/net/xtcp", port, cport,
					     -1) == 0, 20000))
		return -1;
	return cport;
}

FIXTURE(walk) {
	int lfd[3];
	int lport[3];
	int cfd[20];
	int sfd[20];
};

FIXTURE_SETUP(walk)
{
	int i;

	/* Each test in a namespace of its own: no entry of another. */
	ASSERT_EQ(0, xp_unshare_net());
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 0));
	for (i = 0; i < 3; i++)
		ASSERT_LE(0, self->lfd[i] = listener(&self->lport[i]));
	for (i = 0; i < 20; i++)
		ASSERT_LE(0, self->sfd[i] = xtcp_lo_pair(IPPROTO_XTCP,
							 &self->cfd[i]));
	for (i = 0; i < 600; i++)
		ASSERT_LT(0, make_tw(self->lfd[0], self->lport[0], MSL_LONG));
	ASSERT_EQ(600, xtcp_counter("TimeWait"));
}

FIXTURE_TEARDOWN(walk)
{
}

/* 3 listeners, 20 pairs (40 sockets), 600 TIME_WAIT entries. */
TEST_F(walk, every_line_once_whatever_the_read_size)
{
	static const size_t chunks[] = { 1, 100, 4096, 1 << 20 };
	static struct proc_read r;
	size_t i;
	int j;

	for (i = 0; i < ARRAY_SIZE(chunks); i++) {
		ASSERT_EQ(0, read_proc(chunks[i], &r));
		EXPECT_EQ(3 + 40 + 600, r.n);
		EXPECT_EQ(3, count_state(&r, 10));	/* LISTEN */
		EXPECT_EQ(40, count_state(&r, 1));	/* ESTABLISHED */
		EXPECT_EQ(600, count_state(&r, 6));	/* TIME_WAIT */
		for (j = 0; j < r.n; j++)
			ASSERT_EQ(1, count_line(&r, &r.line[j]));
	}
}

TEST_F(walk, lseek_to_start_reads_everything_again)
{
	static struct proc_read r;
	char buf[1000];
	int fd;

	fd = open("/proc/net/xtcp", O_RDONLY);
	ASSERT_LE(0, fd);
	ASSERT_EQ((ssize_t)sizeof(buf), read(fd, buf, sizeof(buf)));
	ASSERT_EQ(0, lseek(fd, 0, SEEK_SET));
	ASSERT_EQ((ssize_t)sizeof(buf), read(fd, buf, sizeof(buf)));
	EXPECT_EQ(0, strncmp(buf, "  sl  local_address", 19));
	close(fd);
	ASSERT_EQ(0, read_proc(4096, &r));
	EXPECT_EQ(643, r.n);
}

/* Entries of two durations, created interleaved, expire each on time. */
TEST(mixed_durations_expire_each_in_its_own_time)
{
	static struct proc_read r;
	int lfd, lport, i, port[40];

	ASSERT_EQ(0, xp_unshare_net());
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 0));
	ASSERT_LE(0, lfd = listener(&lport));
	for (i = 0; i < 40; i++)
		ASSERT_LT(0, port[i] = make_tw(lfd, lport,
					       i % 2 ? MSL_LONG : 300));
	/* The short ones (600 ms) go; the long ones stay. */
	ASSERT_TRUE(xtcp_wait_until(xtcp_counter("TimeWait") == 20, 20000));
	ASSERT_EQ(0, read_proc(4096, &r));
	for (i = 0; i < 40; i++)
		EXPECT_EQ(i % 2, tw_listed(&r, port[i]));
	close(lfd);
}

/*
 * tw_overflow = 1 evicts the entry that expires first, whichever its
 * duration: a short entry made after the long ones goes before them.
 */
TEST(cap_evicts_first_to_expire_across_durations)
{
	static struct proc_read r;
	int lfd, lport, p[5];
	long overflow;

	ASSERT_EQ(0, xp_unshare_net());
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 0));
	ASSERT_EQ(0, xtcp_sysctl_set("max_tw_buckets", 4));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_overflow", 1));
	ASSERT_LE(0, lfd = listener(&lport));
	ASSERT_LT(0, p[0] = make_tw(lfd, lport, MSL_LONG));
	ASSERT_LT(0, p[1] = make_tw(lfd, lport, MSL_LONG));
	ASSERT_LT(0, p[2] = make_tw(lfd, lport, 20000));
	ASSERT_LT(0, p[3] = make_tw(lfd, lport, 30000));
	overflow = xtcp_counter("TWOverflow");
	ASSERT_LT(0, p[4] = make_tw(lfd, lport, MSL_LONG));
	EXPECT_EQ(overflow + 1, xtcp_counter("TWOverflow"));
	ASSERT_EQ(0, read_proc(4096, &r));
	EXPECT_EQ(4, count_state(&r, 6));
	EXPECT_EQ(1, tw_listed(&r, p[0]));
	EXPECT_EQ(1, tw_listed(&r, p[1]));
	EXPECT_EQ(0, tw_listed(&r, p[2]));	/* expired first: evicted */
	EXPECT_EQ(1, tw_listed(&r, p[3]));
	EXPECT_EQ(1, tw_listed(&r, p[4]));
	close(lfd);
}

TEST_HARNESS_MAIN
