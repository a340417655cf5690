// SPDX-License-Identifier: GPL-2.0
/*
 * sock_diag for xtcp (Documentation/xtcp.rst, "sock_diag"): dumps over
 * NETLINK_SOCK_DIAG with sdiag_protocol 253 list the same listeners,
 * connections and TIME_WAIT entries as /proc/net/xtcp, honour state and
 * bytecode filters, carry struct tcp_info and memory counters, answer for
 * one socket, and list thousands of sockets, over many netlink messages,
 * each once. AF_INET6 sockets (native and IPv4-mapped) are listed by
 * AF_INET6 requests only, AF_INET ones by AF_INET requests only, with
 * the addresses, attributes and filters of their family (fixture diag6).
 * Every fixture test runs for IPPROTO_TCP too, with the same
 * expectations: TCP is the oracle for the shape of the replies.
 *
 * The handler is xtcp_diag.ko, next to xtcp.ko in the build directory:
 * main() loads it for these tests and removes it at the end, so that the
 * other tests can unload xtcp.ko, which it holds.
 */

#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include <arpa/inet.h>
#include <fcntl.h>
#include <limits.h>
#include <netinet/in.h>
#include <sys/stat.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <sys/wait.h>

/* See test_options.c: the harness's setjmp() and inlined test bodies. */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_tw.h"

#ifndef SOL_TCP
#define SOL_TCP		IPPROTO_TCP
#endif
#define ST_LISTEN	0x0a
#define ALL_STATES	0xffffffffu
#define DIAG_MSL	5000	/* ms: xtcp's TIME_WAIT lasts 10 s here */
#define TCP_TW_LEN	60000	/* ms, TCP_TIMEWAIT_LEN */
#define MANY_PAIRS	1500

/* One socket of a reply, with the attributes the tests look at. */
struct diag_sock {
	struct inet_diag_msg m;
	bool has_info, has_mem, has_skmem, has_tclass, has_v6only;
	__u8 tclass, v6only;
	struct tcp_info info;
	struct inet_diag_meminfo mem;
	__u32 skmem[SK_MEMINFO_VARS];
	char cong[16];
};

struct diag_set {
	struct diag_sock *v;
	int n;
	int cap;
	int recvs;	/* recv() calls, the one of NLMSG_DONE included */
};

static void diag_set_free(struct diag_set *set)
{
	free(set->v);
	memset(set, 0, sizeof(*set));
}

static int diag_parse(struct diag_set *set, const struct nlmsghdr *h)
{
	const struct inet_diag_msg *m = NLMSG_DATA(h);
	int len = h->nlmsg_len - NLMSG_LENGTH(sizeof(*m));
	struct diag_sock *d;
	struct rtattr *a;

	if (len < 0)
		return -EBADMSG;
	if (set->n == set->cap) {
		void *v;

		set->cap = set->cap ? 2 * set->cap : 64;
		v = realloc(set->v, set->cap * sizeof(*set->v));
		if (!v)
			return -ENOMEM;
		set->v = v;
	}
	d = &set->v[set->n++];
	memset(d, 0, sizeof(*d));
	d->m = *m;
	for (a = (struct rtattr *)((char *)m + NLMSG_ALIGN(sizeof(*m)));
	     RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t plen = RTA_PAYLOAD(a);

		switch (a->rta_type) {
		case INET_DIAG_INFO:
			memcpy(&d->info, RTA_DATA(a),
			       plen < sizeof(d->info) ? plen : sizeof(d->info));
			d->has_info = true;
			break;
		case INET_DIAG_MEMINFO:
			memcpy(&d->mem, RTA_DATA(a),
			       plen < sizeof(d->mem) ? plen : sizeof(d->mem));
			d->has_mem = true;
			break;
		case INET_DIAG_SKMEMINFO:
			memcpy(d->skmem, RTA_DATA(a),
			       plen < sizeof(d->skmem) ? plen : sizeof(d->skmem));
			d->has_skmem = true;
			break;
		case INET_DIAG_TCLASS:
			d->tclass = *(__u8 *)RTA_DATA(a);
			d->has_tclass = true;
			break;
		case INET_DIAG_SKV6ONLY:
			d->v6only = *(__u8 *)RTA_DATA(a);
			d->has_v6only = true;
			break;
		case INET_DIAG_CONG:
			snprintf(d->cong, sizeof(d->cong), "%.*s", (int)plen,
				 (const char *)RTA_DATA(a));
			break;
		}
	}
	return 0;
}

/*
 * Send @req (a dump if @dump) with bytecode @bc of @bclen bytes and add
 * the sockets of the reply to @set. 0, or the -errno of the reply.
 */
static int diag_query(const struct inet_diag_req_v2 *req, bool dump,
		      const void *bc, int bclen, struct diag_set *set)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 r;
		struct rtattr rta;
		char bc[64];
	} msg = {};
	static char buf[65536];
	int fd, err = 0;
	bool done = false;
	ssize_t n;

	if (bclen > (int)sizeof(msg.bc))
		return -EINVAL;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0)
		return -errno;
	msg.nlh.nlmsg_type = SOCK_DIAG_BY_FAMILY;
	msg.nlh.nlmsg_flags = NLM_F_REQUEST | (dump ? NLM_F_DUMP : 0);
	msg.nlh.nlmsg_seq = 1;
	msg.r = *req;
	msg.nlh.nlmsg_len = NLMSG_LENGTH(sizeof(msg.r));
	if (bclen) {
		msg.rta.rta_type = INET_DIAG_REQ_BYTECODE;
		msg.rta.rta_len = RTA_LENGTH(bclen);
		memcpy(msg.bc, bc, bclen);
		msg.nlh.nlmsg_len += RTA_LENGTH(bclen);
	}
	if (send(fd, &msg, msg.nlh.nlmsg_len, 0) < 0) {
		err = -errno;
		goto out;
	}
	while (!done) {
		struct nlmsghdr *h = (struct nlmsghdr *)buf;

		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0) {
			err = -errno;
			break;
		}
		for (; NLMSG_OK(h, n); h = NLMSG_NEXT(h, n)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				done = true;
				break;
			}
			if (h->nlmsg_type == NLMSG_ERROR) {
				err = ((struct nlmsgerr *)NLMSG_DATA(h))->error;
				done = true;
				break;
			}
			if (h->nlmsg_type != SOCK_DIAG_BY_FAMILY) {
				err = -EBADMSG;
				done = true;
				break;
			}
			err = diag_parse(set, h);
			if (err) {
				done = true;
				break;
			}
		}
		set->recvs++;
		if (!dump)
			done = true;
	}
out:
	close(fd);
	return err;
}

static struct inet_diag_req_v2 diag_req(int proto, __u32 states, __u8 ext)
{
	struct inet_diag_req_v2 r = {
		.sdiag_family = AF_INET,
		.sdiag_protocol = proto,
		.idiag_ext = ext,
		.idiag_states = states,
	};

	return r;
}

static int diag_dump(int proto, __u32 states, __u8 ext, struct diag_set *set)
{
	struct inet_diag_req_v2 r = diag_req(proto, states, ext);

	return diag_query(&r, true, NULL, 0, set);
}

static int sport_of(const struct diag_sock *d)
{
	return ntohs(d->m.id.idiag_sport);
}

static int dport_of(const struct diag_sock *d)
{
	return ntohs(d->m.id.idiag_dport);
}

/* The socket @lport -> @rport in state @state (-1: any) of @set. */
static const struct diag_sock *diag_find(const struct diag_set *set,
					 int lport, int rport, int state)
{
	int i;

	for (i = 0; i < set->n; i++) {
		const struct diag_sock *d = &set->v[i];

		if (sport_of(d) == lport && dport_of(d) == rport &&
		    (state < 0 || d->m.idiag_state == state))
			return d;
	}
	return NULL;
}

/* Sockets of @set with local or remote port @port and state @state. */
static int diag_count(const struct diag_set *set, int port, int state)
{
	int i, n = 0;

	for (i = 0; i < set->n; i++) {
		const struct diag_sock *d = &set->v[i];

		if ((sport_of(d) == port || dport_of(d) == port) &&
		    (state < 0 || d->m.idiag_state == state))
			n++;
	}
	return n;
}

/* The /proc lines of one port, to hold against a dump. */
struct proc_lines {
	int port;
	int n;
	struct xtcp_proc_entry e[64];
};

static int proc_collect(const struct xtcp_proc_entry *e, void *arg)
{
	struct proc_lines *pl = arg;

	if ((int)e->lport != pl->port && (int)e->rport != pl->port)
		return 0;
	if (pl->n == (int)ARRAY_SIZE(pl->e))
		return -E2BIG;
	pl->e[pl->n++] = *e;
	return 0;
}

/* Sockets of @set with port @port whose 4-tuple is not unique. */
static int keycmp(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static int diag_duplicates(const struct diag_set *set, int port)
{
	__u64 *keys = calloc(set->n + 1, sizeof(*keys));
	int i, n = 0, dups = 0;

	if (!keys)
		return -ENOMEM;
	for (i = 0; i < set->n; i++) {
		const struct diag_sock *d = &set->v[i];

		if (sport_of(d) != port && dport_of(d) != port)
			continue;
		keys[n++] = (__u64)sport_of(d) << 32 |
			    (__u64)dport_of(d) << 16 | d->m.idiag_state;
	}
	qsort(keys, n, sizeof(*keys), keycmp);
	for (i = 1; i < n; i++)
		dups += keys[i] == keys[i - 1];
	free(keys);
	return dups;
}

/* Does this kernel answer sock_diag for TCP at all? */
static bool diag_available(void)
{
	struct diag_set set = {};
	int err = diag_dump(IPPROTO_TCP, 1 << 10, 0, &set);

	diag_set_free(&set);
	return !err;
}

/*
 * The fixture at rest: 100 bytes in the receive queue of @port's side of
 * the connection with @cport, none unacknowledged on the other side, and
 * one connection ready for accept() on the listener.
 */
static bool at_rest(const char *proc, int port, int cport)
{
	struct xtcp_proc_entry srv = {}, cli = {}, lst = {};

	return !xtcp_proc_find(proc, port, cport, &srv) && srv.rxq == 100 &&
	       !xtcp_proc_find(proc, cport, port, &cli) && cli.txq == 0 &&
	       !xtcp_proc_find(proc, port, 0, &lst) && lst.rxq == 1;
}

FIXTURE(diag) {
	int lfd;		/* listener on 127.0.0.1 */
	int port;		/* its port */
	int cfd[3], sfd[3];	/* established pairs */
	int pending;		/* a client its listener has not accepted */
	int tw_port;		/* client port of the TIME_WAIT entry */
};

FIXTURE_VARIANT(diag) {
	int proto;
};

FIXTURE_VARIANT_ADD(diag, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(diag, xtcp) {
	.proto = IPPROTO_XTCP,
};

/*
 * In a namespace of its own: a listener, three established pairs (the
 * first with 100 bytes its server has not read), one connection not yet
 * accepted and one TIME_WAIT entry, all at rest.
 */
FIXTURE_SETUP(diag)
{
	const char *proc = xtcp_proc_path(variant->proto);
	struct sockaddr_in sin;
	char data[100] = "x";
	int i, fd, err;

	self->lfd = -1;
	self->pending = -1;
	for (i = 0; i < 3; i++)
		self->cfd[i] = self->sfd[i] = -1;
	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	if (!diag_available())
		SKIP(return, "this kernel has no inet_diag");
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("msl", DIAG_MSL));
	}

	self->lfd = listener(variant->proto, LOOPBACK, 0);
	ASSERT_LE(0, self->lfd);
	self->port = xtcp_local_port(self->lfd);
	sin = xtcp_sin(LOOPBACK, self->port);

	fd = client(variant->proto, NULL, 0, false);
	ASSERT_LE(0, fd);
	self->tw_port = cycle(_metadata, proc, self->lfd, fd, true);

	for (i = 0; i < 3; i++) {
		self->cfd[i] = client(variant->proto, NULL, 0, false);
		ASSERT_LE(0, self->cfd[i]);
		self->sfd[i] = connect_pair(self->cfd[i], self->lfd);
		ASSERT_LE(0, self->sfd[i]);
	}
	ASSERT_EQ((ssize_t)sizeof(data), send(self->cfd[0], data,
					      sizeof(data), 0));

	self->pending = client(variant->proto, NULL, 0, false);
	ASSERT_LE(0, self->pending);
	ASSERT_EQ(0, connect(self->pending, (struct sockaddr *)&sin,
			     sizeof(sin)));

	/* At rest: the data arrived and is acknowledged. */
	ASSERT_TRUE(xtcp_wait_until(at_rest(proc, self->port,
					    xtcp_local_port(self->cfd[0])),
				    3000));
}

FIXTURE_TEARDOWN(diag)
{
	int i;

	for (i = 0; i < 3; i++) {
		if (self->cfd[i] >= 0)
			close(self->cfd[i]);
		if (self->sfd[i] >= 0)
			close(self->sfd[i]);
	}
	if (self->pending >= 0)
		close(self->pending);
	if (self->lfd >= 0)
		close(self->lfd);
}

/*
 * A dump of every state lists the sockets of /proc/net/{tcp,xtcp}: the
 * same 4-tuples and states, owners, inodes and queues, each once.
 */
TEST_F(diag, dump_matches_proc)
{
	struct proc_lines pl = { .port = self->port };
	struct diag_set set = {};
	int i, err;

	err = diag_dump(variant->proto, ALL_STATES, 0, &set);
	ASSERT_EQ(0, err) TH_LOG("dump: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_proc_foreach(xtcp_proc_path(variant->proto),
				       proc_collect, &pl));
	/* Listener, 3 + 1 pairs, TIME_WAIT. */
	EXPECT_EQ(10, pl.n);
	EXPECT_EQ(pl.n, diag_count(&set, self->port, -1));
	EXPECT_EQ(0, diag_duplicates(&set, self->port));

	for (i = 0; i < pl.n; i++) {
		const struct xtcp_proc_entry *e = &pl.e[i];
		const struct diag_sock *d;

		d = diag_find(&set, e->lport, e->rport, e->state);
		ASSERT_NE(NULL, d) TH_LOG("%u -> %u state %u not dumped",
					  e->lport, e->rport, e->state);
		EXPECT_EQ(AF_INET, d->m.idiag_family);
		EXPECT_EQ(e->laddr, d->m.id.idiag_src[0]);
		EXPECT_EQ(e->raddr, d->m.id.idiag_dst[0]);
		EXPECT_EQ(e->inode, (unsigned long)d->m.idiag_inode);
		EXPECT_EQ(e->uid, d->m.idiag_uid);
		EXPECT_EQ(e->rxq, d->m.idiag_rqueue);
		/* /proc/net/tcp shows no backlog for a listener; below. */
		if (e->state != ST_LISTEN) {
			EXPECT_EQ(e->txq, d->m.idiag_wqueue);
		}
		if (e->state == ST_TIME_WAIT) {
			EXPECT_EQ(TR_TIME_WAIT, d->m.idiag_timer);
		}
	}
	/* The queues and inodes are not all zero: a real comparison. */
	EXPECT_EQ(100u, diag_find(&set, self->port,
				  xtcp_local_port(self->cfd[0]),
				  ST_ESTABLISHED)->m.idiag_rqueue);
	EXPECT_EQ(1u, diag_find(&set, self->port, 0,
				ST_LISTEN)->m.idiag_rqueue);
	/* A listener's send queue is its backlog, listen(fd, 16). */
	EXPECT_EQ(16u, diag_find(&set, self->port, 0,
				 ST_LISTEN)->m.idiag_wqueue);
	diag_set_free(&set);
}

/* idiag_states picks the states: listeners, connections, TIME_WAIT. */
TEST_F(diag, state_filter)
{
	static const struct { __u32 states; int n; } cases[] = {
		{ 1 << ST_LISTEN, 1 },
		{ 1 << ST_ESTABLISHED, 8 },
		{ 1 << ST_TIME_WAIT, 1 },
		{ 1 << ST_LISTEN | 1 << ST_TIME_WAIT, 2 },
		{ 1 << 2 /* SYN_SENT */, 0 },
	};
	size_t c;
	int i;

	for (c = 0; c < ARRAY_SIZE(cases); c++) {
		struct diag_set set = {};

		ASSERT_EQ(0, diag_dump(variant->proto, cases[c].states, 0,
				       &set));
		EXPECT_EQ(cases[c].n, diag_count(&set, self->port, -1))
			TH_LOG("states %#x", cases[c].states);
		for (i = 0; i < set.n; i++) {
			EXPECT_NE(0u, cases[c].states &
				      (1u << set.v[i].m.idiag_state));
		}
		diag_set_free(&set);
	}
}

/*
 * Bytecode filters as ss(8) compiles them: "dport = :P" keeps the
 * clients and the TIME_WAIT entry; "sport = :P" the listener and the
 * server sides.
 */
TEST_F(diag, bytecode_filter)
{
	struct inet_diag_bc_op prog[2] = {
		{ .code = INET_DIAG_BC_D_EQ, .yes = 8, .no = 12 },
		{ .no = self->port },
	};
	struct inet_diag_req_v2 r = diag_req(variant->proto, ALL_STATES, 0);
	struct diag_set set = {};
	int i;

	ASSERT_EQ(0, diag_query(&r, true, prog, sizeof(prog), &set));
	EXPECT_EQ(5, set.n);	/* 3 + 1 clients, TIME_WAIT */
	EXPECT_NE(NULL, diag_find(&set, self->tw_port, self->port,
				  ST_TIME_WAIT));
	for (i = 0; i < set.n; i++)
		EXPECT_EQ(self->port, dport_of(&set.v[i]));
	diag_set_free(&set);

	prog[0].code = INET_DIAG_BC_S_EQ;
	ASSERT_EQ(0, diag_query(&r, true, prog, sizeof(prog), &set));
	EXPECT_EQ(5, set.n);	/* listener, 3 + 1 server sides */
	for (i = 0; i < set.n; i++)
		EXPECT_EQ(self->port, sport_of(&set.v[i]));
	diag_set_free(&set);
}

/*
 * INET_DIAG_INFO is the struct tcp_info of TCP_INFO; the memory
 * attributes and the congestion control come when asked for.
 */
TEST_F(diag, info_and_memory)
{
	__u8 ext = 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_MEMINFO - 1) |
		   1 << (INET_DIAG_SKMEMINFO - 1) | 1 << (INET_DIAG_CONG - 1);
	int cport = xtcp_local_port(self->cfd[1]);
	socklen_t len = sizeof(struct tcp_info);
	const struct diag_sock *d, *l;
	struct diag_set set = {};
	struct tcp_info ti;

	ASSERT_EQ(0, xtcp_echo(self->cfd[1], self->sfd[1]));
	ASSERT_EQ(0, getsockopt(self->cfd[1], SOL_TCP, TCP_INFO, &ti, &len));
	ASSERT_EQ(0, diag_dump(variant->proto, ALL_STATES, ext, &set));

	d = diag_find(&set, cport, self->port, ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	ASSERT_TRUE(d->has_info);
	EXPECT_EQ(ST_ESTABLISHED, d->info.tcpi_state);
	EXPECT_EQ(ti.tcpi_snd_mss, d->info.tcpi_snd_mss);
	EXPECT_EQ(ti.tcpi_advmss, d->info.tcpi_advmss);
	EXPECT_LE(500u, d->info.tcpi_snd_mss);
	EXPECT_GE(65535u, d->info.tcpi_snd_mss);
	EXPECT_LT(0u, d->info.tcpi_rtt);
	EXPECT_GT(1000000u, d->info.tcpi_rtt);	/* < 1 s on loopback */
	EXPECT_LT(0u, d->info.tcpi_rto);
	EXPECT_LE(ti.tcpi_segs_out, d->info.tcpi_segs_out);
	EXPECT_TRUE(d->has_mem);
	EXPECT_TRUE(d->has_skmem);
	EXPECT_LT(0u, d->skmem[SK_MEMINFO_RCVBUF]);
	EXPECT_LT(0u, d->skmem[SK_MEMINFO_SNDBUF]);
	EXPECT_NE(0, d->cong[0]);

	/* 100 bytes wait in the first server socket's receive queue. */
	d = diag_find(&set, self->port, xtcp_local_port(self->cfd[0]),
		      ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	EXPECT_LE(100u, d->mem.idiag_rmem);
	EXPECT_EQ(d->mem.idiag_rmem, d->skmem[SK_MEMINFO_RMEM_ALLOC]);

	l = diag_find(&set, self->port, 0, ST_LISTEN);
	ASSERT_NE(NULL, l);
	ASSERT_TRUE(l->has_info);
	EXPECT_EQ(ST_LISTEN, l->info.tcpi_state);
	EXPECT_EQ(1u, l->info.tcpi_unacked);	/* ready for accept() */

	/* Without the ext bits, no attributes. */
	diag_set_free(&set);
	ASSERT_EQ(0, diag_dump(variant->proto, ALL_STATES, 0, &set));
	d = diag_find(&set, cport, self->port, ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	EXPECT_FALSE(d->has_info || d->has_mem || d->has_skmem);
	diag_set_free(&set);
}

/* The time TIME_WAIT has left for the TIME_WAIT entry, ms, or -1. */
static long tw_expires(int proto, int lport, int rport)
{
	struct diag_set set = {};
	const struct diag_sock *d;
	long ms = -1;

	if (!diag_dump(proto, 1 << ST_TIME_WAIT, 0, &set)) {
		d = diag_find(&set, lport, rport, ST_TIME_WAIT);
		if (d && d->m.idiag_timer == TR_TIME_WAIT)
			ms = d->m.idiag_expires;
	}
	diag_set_free(&set);
	return ms;
}

/*
 * TIME_WAIT shows its remaining time in idiag_expires, in ms as TCP does:
 * within 2 x MSL (TCP: 60 s), going down as time passes, and what
 * /proc shows.
 */
TEST_F(diag, timewait_expires)
{
	long bound = variant->proto == IPPROTO_XTCP ? 2 * DIAG_MSL : TCP_TW_LEN;
	struct xtcp_proc_entry e;
	long first, second;
	__s64 t0;

	t0 = xp_now_ms();
	first = tw_expires(variant->proto, self->tw_port, self->port);
	ASSERT_LT(0, first);
	EXPECT_GE(bound, first);
	ASSERT_EQ(0, xtcp_proc_find(xtcp_proc_path(variant->proto),
				    self->tw_port, self->port, &e));
	/* xtcp_proc_find() gives the tm->when column in ms. */
	EXPECT_GE(200, labs((long)e.when - first))
		TH_LOG("/proc %lu ms, sock_diag %ld ms", e.when, first);

	ASSERT_TRUE(xtcp_wait_until(
		(second = tw_expires(variant->proto, self->tw_port,
				     self->port)) < first - 100, 3000));
	EXPECT_LT(0, second);
	EXPECT_GE(xp_now_ms() - t0 + 20, first - second);
}

/* Send a dump_one request for @lport -> @rport with @cookie. */
static int diag_one(int proto, int lport, int rport, const __u32 *cookie,
		    struct diag_set *set)
{
	struct inet_diag_req_v2 r = diag_req(proto, ALL_STATES, 0);

	r.id.idiag_src[0] = htonl(INADDR_LOOPBACK);
	r.id.idiag_sport = htons(lport);
	if (rport) {
		r.id.idiag_dst[0] = htonl(INADDR_LOOPBACK);
		r.id.idiag_dport = htons(rport);
	}
	r.id.idiag_cookie[0] = cookie ? cookie[0] : INET_DIAG_NOCOOKIE;
	r.id.idiag_cookie[1] = cookie ? cookie[1] : INET_DIAG_NOCOOKIE;
	return diag_query(&r, false, NULL, 0, set);
}

/*
 * A request without NLM_F_DUMP answers for one exact 4-tuple: a
 * connection, a listener (remote address and port 0) or a TIME_WAIT
 * entry, checked against the socket cookie if one is given.
 */
TEST_F(diag, dump_one)
{
	int cport = xtcp_local_port(self->cfd[2]);
	struct {
		int lport, rport, state;
	} socks[] = {
		{ cport, self->port, ST_ESTABLISHED },
		{ self->port, cport, ST_ESTABLISHED },
		{ self->port, 0, ST_LISTEN },
		{ self->tw_port, self->port, ST_TIME_WAIT },
	};
	struct diag_set all = {};
	size_t i;
	int err;

	ASSERT_EQ(0, diag_dump(variant->proto, ALL_STATES, 0, &all));
	for (i = 0; i < ARRAY_SIZE(socks); i++) {
		const struct diag_sock *d;
		struct diag_set one = {};
		__u32 bad[2];

		d = diag_find(&all, socks[i].lport, socks[i].rport,
			      socks[i].state);
		ASSERT_NE(NULL, d);
		err = diag_one(variant->proto, socks[i].lport, socks[i].rport,
			       NULL, &one);
		ASSERT_EQ(0, err) TH_LOG("%d -> %d: %s", socks[i].lport,
					 socks[i].rport, strerror(-err));
		ASSERT_EQ(1, one.n);
		EXPECT_EQ(0, memcmp(&d->m.id, &one.v[0].m.id,
				    sizeof(d->m.id)));
		EXPECT_EQ(socks[i].state, one.v[0].m.idiag_state);
		EXPECT_EQ(d->m.idiag_inode, one.v[0].m.idiag_inode);
		diag_set_free(&one);

		/* With the cookie of the dump, and with a wrong one. */
		EXPECT_EQ(0, diag_one(variant->proto, socks[i].lport,
				      socks[i].rport, d->m.id.idiag_cookie,
				      &one));
		EXPECT_EQ(1, one.n);
		diag_set_free(&one);
		bad[0] = d->m.id.idiag_cookie[0] + 1;
		bad[1] = d->m.id.idiag_cookie[1];
		EXPECT_EQ(-ENOENT, diag_one(variant->proto, socks[i].lport,
					    socks[i].rport, bad, &one));
		diag_set_free(&one);
	}
	diag_set_free(&all);

	/* Nothing there: no reply but ENOENT. */
	{
		struct diag_set none = {};

		EXPECT_EQ(-ENOENT, diag_one(variant->proto, cport,
					    self->port + 1, NULL, &none));
		EXPECT_EQ(0, none.n);
		diag_set_free(&none);
	}
}

/*
 * Thousands of sockets take many netlink messages, the dump resuming
 * where the last one ended: every socket comes exactly once, with or
 * without the (larger) INET_DIAG_INFO, as /proc counts them.
 */
TEST_F(diag, many_sockets_each_once)
{
	struct rlimit rl = { 4 * MANY_PAIRS, 4 * MANY_PAIRS };
	int *fds = calloc(2 * MANY_PAIRS, sizeof(int));
	__u8 exts[] = { 0, 1 << (INET_DIAG_INFO - 1) };
	int i, proc_n, expect;
	size_t x;

	ASSERT_NE(NULL, fds);
	ASSERT_EQ(0, setrlimit(RLIMIT_NOFILE, &rl));
	for (i = 0; i < MANY_PAIRS; i++) {
		fds[2 * i] = client(variant->proto, NULL, 0, false);
		ASSERT_LE(0, fds[2 * i]);
		fds[2 * i + 1] = connect_pair(fds[2 * i], self->lfd);
		ASSERT_LE(0, fds[2 * i + 1]) TH_LOG("pair %d: %s", i,
						   strerror(-fds[2 * i + 1]));
	}
	expect = 10 + 2 * MANY_PAIRS;
	proc_n = xtcp_proc_count(xtcp_proc_path(variant->proto), -1, -1, -1);
	EXPECT_EQ(expect, proc_n);

	for (x = 0; x < ARRAY_SIZE(exts); x++) {
		struct diag_set set = {};

		ASSERT_EQ(0, diag_dump(variant->proto, ALL_STATES, exts[x],
				       &set));
		EXPECT_EQ(expect, set.n) TH_LOG("ext %#x", exts[x]);
		EXPECT_EQ(expect, diag_count(&set, self->port, -1));
		EXPECT_EQ(0, diag_duplicates(&set, self->port));
		EXPECT_LT(4, set.recvs);
		TH_LOG("ext %#x: %d sockets in %d reads", exts[x], set.n,
		       set.recvs);
		diag_set_free(&set);
	}
	for (i = 0; i < 2 * MANY_PAIRS; i++)
		close(fds[i]);
	free(fds);
}

/*
 * Dumps while connections come and go (and end with a RST, so that no
 * TIME_WAIT piles up): every dump ends cleanly. They come from
 * 127.0.0.2: from 127.0.0.1 a new connection may take over the fixture's
 * TIME_WAIT entry (tw_reuse on loopback, once it is a second old), as
 * Linux TCP once did here. The small ones fit in
 * one netlink message, taken in one pass over each table: they hold the
 * sockets at rest, once. (Dumps resumed across messages may miss or
 * repeat an entry when the tables change, as TCP's.)
 */
TEST_F(diag, dump_during_churn)
{
	__u8 ext = 1 << (INET_DIAG_INFO - 1) | 1 << (INET_DIAG_SKMEMINFO - 1);
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	int status, dumps = 0;
	__s64 end;
	pid_t pid;

	pid = fork();
	ASSERT_LE(0, pid);
	if (!pid) {
		end = xp_now_ms() + 2000;
		while (xp_now_ms() < end) {
			int c = client(variant->proto, "127.0.0.2", 0, false);
			int a = c < 0 ? c : connect_pair(c, self->lfd);

			if (a < 0)
				_exit(1);
			if (send(c, "x", 1, 0) != 1 ||
			    setsockopt(c, SOL_SOCKET, SO_LINGER, &lg,
				       sizeof(lg)))
				_exit(2);
			close(c);
			close(a);
		}
		_exit(0);
	}
	end = xp_now_ms() + 2000;
	while (xp_now_ms() < end) {
		struct diag_set set = {};
		int err;

		err = diag_dump(variant->proto, ALL_STATES, dumps & 1 ? ext : 0,
				&set);
		ASSERT_EQ(0, err) TH_LOG("dump %d: %s", dumps, strerror(-err));
		if (!(dumps++ & 1)) {
			/* One message, and NLMSG_DONE. */
			EXPECT_GE(2, set.recvs);
			EXPECT_NE(NULL, diag_find(&set, self->port, 0,
						  ST_LISTEN));
			EXPECT_NE(NULL, diag_find(&set, self->tw_port,
						  self->port, ST_TIME_WAIT));
			EXPECT_NE(NULL,
				  diag_find(&set, xtcp_local_port(self->cfd[1]),
					    self->port, ST_ESTABLISHED));
			EXPECT_EQ(0, diag_duplicates(&set, self->port));
		}
		diag_set_free(&set);
	}
	ASSERT_EQ(pid, waitpid(pid, &status, 0));
	EXPECT_TRUE(WIFEXITED(status) && !WEXITSTATUS(status));
	TH_LOG("%d dumps while connections came and went", dumps);
}

/*
 * Fixture diag6: sockets of both families in a namespace of their own.
 *
 *   l6, c6/s6    a listener on ::1 and a connection to it, the client
 *                with IPV6_TCLASS 0x28
 *   tw6          the TIME_WAIT entry of a second client of l6
 *   ld           an AF_INET6 listener on :: without IPV6_V6ONLY, and
 *   cm/sm        an AF_INET client of it over 127.0.0.1: sm is AF_INET6,
 *                with IPv4-mapped addresses
 *   l4, c4/s4    an AF_INET listener on 127.0.0.1 and a connection
 *
 * An AF_INET dump lists l4, c4, s4 and cm; an AF_INET6 one l6, c6, s6,
 * tw6, ld and sm.
 */
#define DIAG6_TCLASS	0x28

FIXTURE(diag6) {
	int l6, c6, s6, ld, cm, sm, l4, c4, s4;
	int p6, pd, p4;		/* listener ports */
	int tw6;		/* client port of the TIME_WAIT entry */
};

FIXTURE_VARIANT(diag6) {
	int proto;
};

FIXTURE_VARIANT_ADD(diag6, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(diag6, xtcp) {
	.proto = IPPROTO_XTCP,
};

static struct sockaddr_in6 sin6_of(const char *addr, int port)
{
	struct sockaddr_in6 a = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(port),
	};

	inet_pton(AF_INET6, addr, &a.sin6_addr);
	return a;
}

/* An AF_INET6 listener on @addr, IPV6_V6ONLY off; -errno on failure. */
static int listener6(int proto, const char *addr)
{
	struct sockaddr_in6 a = sin6_of(addr, 0);
	int fd, err;

	fd = socket(AF_INET6, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if (xtcp_set_int(fd, IPPROTO_IPV6, IPV6_V6ONLY, 0) ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* Connect an AF_INET6 @cfd to [@addr]:@port, accept on @lfd. */
static int connect6(int cfd, const char *addr, int port, int lfd)
{
	struct sockaddr_in6 a = sin6_of(addr, port);

	if (connect(cfd, (struct sockaddr *)&a, sizeof(a)))
		return -errno;
	return accept(lfd, NULL, NULL);
}

static bool diag6_has_tw(int proto, int lport, int rport)
{
	struct inet_diag_req_v2 r = diag_req(proto, 1 << ST_TIME_WAIT, 0);
	struct diag_set set = {};
	bool found;

	r.sdiag_family = AF_INET6;
	found = !diag_query(&r, true, NULL, 0, &set) &&
		diag_find(&set, lport, rport, ST_TIME_WAIT);
	diag_set_free(&set);
	return found;
}

FIXTURE_SETUP(diag6)
{
	int proto = variant->proto;
	struct sockaddr_in sin;
	char eof;
	int c, s, err;

	self->l6 = self->c6 = self->s6 = self->ld = self->cm = -1;
	self->sm = self->l4 = self->c4 = self->s4 = -1;
	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	if (!diag_available())
		SKIP(return, "this kernel has no inet_diag");
	if (proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("msl", DIAG_MSL));
	}

	self->l6 = listener6(proto, "::1");
	ASSERT_LE(0, self->l6);
	self->p6 = xtcp_local_port(self->l6);
	self->c6 = socket(AF_INET6, SOCK_STREAM, proto);
	ASSERT_LE(0, self->c6);
	ASSERT_EQ(0, xtcp_set_int(self->c6, IPPROTO_IPV6, IPV6_TCLASS,
				  DIAG6_TCLASS));
	self->s6 = connect6(self->c6, "::1", self->p6, self->l6);
	ASSERT_LE(0, self->s6);

	/* The client closes first: TIME_WAIT on its side. */
	c = socket(AF_INET6, SOCK_STREAM, proto);
	ASSERT_LE(0, c);
	s = connect6(c, "::1", self->p6, self->l6);
	ASSERT_LE(0, s);
	self->tw6 = xtcp_local_port(c);
	close(c);
	ASSERT_EQ(0, recv(s, &eof, 1, 0));
	close(s);
	ASSERT_TRUE(xtcp_wait_until(diag6_has_tw(proto, self->tw6, self->p6),
				    3000));

	self->ld = listener6(proto, "::");
	ASSERT_LE(0, self->ld);
	self->pd = xtcp_local_port(self->ld);
	self->cm = client(proto, NULL, 0, false);
	ASSERT_LE(0, self->cm);
	sin = xtcp_sin(LOOPBACK, self->pd);
	ASSERT_EQ(0, connect(self->cm, (struct sockaddr *)&sin, sizeof(sin)));
	self->sm = accept(self->ld, NULL, NULL);
	ASSERT_LE(0, self->sm);

	self->l4 = listener(proto, LOOPBACK, 0);
	ASSERT_LE(0, self->l4);
	self->p4 = xtcp_local_port(self->l4);
	self->c4 = client(proto, NULL, 0, false);
	ASSERT_LE(0, self->c4);
	self->s4 = connect_pair(self->c4, self->l4);
	ASSERT_LE(0, self->s4);
}

FIXTURE_TEARDOWN(diag6)
{
	int *fds[] = { &self->l6, &self->c6, &self->s6, &self->ld, &self->cm,
		       &self->sm, &self->l4, &self->c4, &self->s4 };
	size_t i;

	for (i = 0; i < ARRAY_SIZE(fds); i++)
		if (*fds[i] >= 0)
			close(*fds[i]);
}

static int diag_dump_family(int proto, int family, __u8 ext,
			    struct diag_set *set)
{
	struct inet_diag_req_v2 r = diag_req(proto, ALL_STATES, ext);

	r.sdiag_family = family;
	return diag_query(&r, true, NULL, 0, set);
}

static bool addr6_is(const __be32 *a, const char *text)
{
	struct in6_addr want;

	inet_pton(AF_INET6, text, &want);
	return !memcmp(a, &want, sizeof(want));
}

static unsigned long ino_of(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/*
 * An AF_INET dump lists the AF_INET sockets only, an AF_INET6 one the
 * AF_INET6 sockets only, IPv4-mapped and TIME_WAIT included, as TCP's.
 */
TEST_F(diag6, families_apart)
{
	int cm = xtcp_local_port(self->cm), i;
	struct diag_set v4 = {}, v6 = {};

	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET, 0, &v4));
	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET6, 0, &v6));

	EXPECT_EQ(4, v4.n);
	for (i = 0; i < v4.n; i++)
		EXPECT_EQ(AF_INET, v4.v[i].m.idiag_family);
	EXPECT_NE(NULL, diag_find(&v4, self->p4, 0, ST_LISTEN));
	EXPECT_NE(NULL, diag_find(&v4, self->p4, xtcp_local_port(self->c4),
				  ST_ESTABLISHED));
	EXPECT_NE(NULL, diag_find(&v4, xtcp_local_port(self->c4), self->p4,
				  ST_ESTABLISHED));
	EXPECT_NE(NULL, diag_find(&v4, cm, self->pd, ST_ESTABLISHED));

	EXPECT_EQ(6, v6.n);
	for (i = 0; i < v6.n; i++)
		EXPECT_EQ(AF_INET6, v6.v[i].m.idiag_family);
	EXPECT_NE(NULL, diag_find(&v6, self->p6, 0, ST_LISTEN));
	EXPECT_NE(NULL, diag_find(&v6, self->p6, xtcp_local_port(self->c6),
				  ST_ESTABLISHED));
	EXPECT_NE(NULL, diag_find(&v6, xtcp_local_port(self->c6), self->p6,
				  ST_ESTABLISHED));
	EXPECT_NE(NULL, diag_find(&v6, self->tw6, self->p6, ST_TIME_WAIT));
	EXPECT_NE(NULL, diag_find(&v6, self->pd, 0, ST_LISTEN));
	EXPECT_NE(NULL, diag_find(&v6, self->pd, cm, ST_ESTABLISHED));

	/* And not the other way round. */
	EXPECT_EQ(0, diag_count(&v4, self->p6, -1));
	EXPECT_EQ(NULL, diag_find(&v4, self->pd, 0, ST_LISTEN));
	EXPECT_EQ(NULL, diag_find(&v4, self->pd, cm, ST_ESTABLISHED));
	EXPECT_EQ(0, diag_count(&v6, self->p4, -1));
	EXPECT_EQ(NULL, diag_find(&v6, cm, self->pd, ST_ESTABLISHED));
	diag_set_free(&v4);
	diag_set_free(&v6);
}

/*
 * Addresses as inet_diag_msg_common_fill() puts them: an AF_INET6
 * socket's in full (IPv4-mapped ones as ::ffff:127.0.0.1), an AF_INET
 * one's in the first word; the inode of the socket.
 */
TEST_F(diag6, addresses)
{
	int c6 = xtcp_local_port(self->c6), cm = xtcp_local_port(self->cm);
	static const __be32 zero[4];
	struct diag_set v4 = {}, v6 = {};
	const struct diag_sock *d;

	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET, 0, &v4));
	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET6, 0, &v6));

	d = diag_find(&v6, self->p6, 0, ST_LISTEN);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(addr6_is(d->m.id.idiag_src, "::1"));
	EXPECT_TRUE(addr6_is(d->m.id.idiag_dst, "::"));
	EXPECT_EQ(ino_of(self->l6), d->m.idiag_inode);

	d = diag_find(&v6, c6, self->p6, ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(addr6_is(d->m.id.idiag_src, "::1"));
	EXPECT_TRUE(addr6_is(d->m.id.idiag_dst, "::1"));
	EXPECT_EQ(ino_of(self->c6), d->m.idiag_inode);

	d = diag_find(&v6, self->tw6, self->p6, ST_TIME_WAIT);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(addr6_is(d->m.id.idiag_src, "::1"));
	EXPECT_TRUE(addr6_is(d->m.id.idiag_dst, "::1"));
	EXPECT_EQ(TR_TIME_WAIT, d->m.idiag_timer);
	EXPECT_LT(0u, d->m.idiag_expires);

	d = diag_find(&v6, self->pd, 0, ST_LISTEN);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(addr6_is(d->m.id.idiag_src, "::"));

	d = diag_find(&v6, self->pd, cm, ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(addr6_is(d->m.id.idiag_src, "::ffff:127.0.0.1"));
	EXPECT_TRUE(addr6_is(d->m.id.idiag_dst, "::ffff:127.0.0.1"));
	EXPECT_EQ(ino_of(self->sm), d->m.idiag_inode);

	d = diag_find(&v4, cm, self->pd, ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	EXPECT_EQ(htonl(INADDR_LOOPBACK), d->m.id.idiag_src[0]);
	EXPECT_EQ(htonl(INADDR_LOOPBACK), d->m.id.idiag_dst[0]);
	EXPECT_EQ(0, memcmp(&d->m.id.idiag_src[1], zero, 3 * sizeof(__be32)));
	EXPECT_EQ(0, memcmp(&d->m.id.idiag_dst[1], zero, 3 * sizeof(__be32)));
	diag_set_free(&v4);
	diag_set_free(&v6);
}

/*
 * INET_DIAG_TCLASS when asked for, on AF_INET6 sockets only;
 * INET_DIAG_SKV6ONLY on AF_INET6 listeners: 1 on ::1 (bind() set it),
 * 0 on :: here.
 */
TEST_F(diag6, tclass_v6only)
{
	__u8 ext = 1 << (INET_DIAG_TCLASS - 1);
	int c6 = xtcp_local_port(self->c6), i;
	struct diag_set v4 = {}, v6 = {};
	const struct diag_sock *d;

	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET, ext, &v4));
	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET6, ext, &v6));

	d = diag_find(&v6, c6, self->p6, ST_ESTABLISHED);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(d->has_tclass);
	EXPECT_EQ(DIAG6_TCLASS, d->tclass);
	EXPECT_FALSE(d->has_v6only);

	d = diag_find(&v6, self->p6, 0, ST_LISTEN);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(d->has_v6only);
	EXPECT_EQ(1, d->v6only);
	d = diag_find(&v6, self->pd, 0, ST_LISTEN);
	ASSERT_NE(NULL, d);
	EXPECT_TRUE(d->has_v6only);
	EXPECT_EQ(0, d->v6only);

	for (i = 0; i < v4.n; i++) {
		EXPECT_FALSE(v4.v[i].has_tclass);
		EXPECT_FALSE(v4.v[i].has_v6only);
	}
	diag_set_free(&v4);
	diag_set_free(&v6);
}

/* A bytecode host condition, "src|dst [addr]/prefix", any port. */
struct diag6_cond {
	struct inet_diag_bc_op op;
	struct inet_diag_hostcond hc;
	__be32 addr[4];
};

static int diag6_cond_dump(int proto, __u8 code, int family,
			   const char *addr, int prefix, struct diag_set *set)
{
	struct inet_diag_req_v2 r = diag_req(proto, ALL_STATES, 0);
	struct diag6_cond bc = {
		.op = { .code = code },
		.hc = { .family = family, .prefix_len = prefix, .port = -1 },
	};
	/* An IPv4 condition ends after its first address word. */
	int len = sizeof(bc) - (family == AF_INET ? 12 : 0);

	bc.op.yes = len;
	bc.op.no = len + 4;
	inet_pton(family, addr, bc.addr);
	r.sdiag_family = AF_INET6;
	return diag_query(&r, true, &bc, len, set);
}

/*
 * Bytecode conditions on IPv6 addresses, as ss compiles "src [::1]":
 * they hold for sockets and TIME_WAIT entries alike; an IPv4 condition
 * matches the IPv4-mapped addresses of an AF_INET6 socket.
 */
TEST_F(diag6, bytecode_v6)
{
	int c6 = xtcp_local_port(self->c6), i;
	struct diag_set set = {};

	ASSERT_EQ(0, diag6_cond_dump(variant->proto, INET_DIAG_BC_S_COND,
				     AF_INET6, "::1", 128, &set));
	EXPECT_EQ(4, set.n);	/* l6, c6, s6, tw6 */
	EXPECT_NE(NULL, diag_find(&set, self->tw6, self->p6, ST_TIME_WAIT));
	EXPECT_NE(NULL, diag_find(&set, self->p6, 0, ST_LISTEN));
	diag_set_free(&set);

	ASSERT_EQ(0, diag6_cond_dump(variant->proto, INET_DIAG_BC_D_COND,
				     AF_INET6, "::1", 128, &set));
	EXPECT_EQ(3, set.n);	/* c6, s6, tw6 */
	EXPECT_NE(NULL, diag_find(&set, self->tw6, self->p6, ST_TIME_WAIT));
	EXPECT_NE(NULL, diag_find(&set, c6, self->p6, ST_ESTABLISHED));
	diag_set_free(&set);

	ASSERT_EQ(0, diag6_cond_dump(variant->proto, INET_DIAG_BC_S_COND,
				     AF_INET, "127.0.0.1", 32, &set));
	ASSERT_EQ(1, set.n);	/* sm */
	EXPECT_EQ(self->pd, sport_of(&set.v[0]));
	for (i = 0; i < set.n; i++)
		EXPECT_EQ(AF_INET6, set.v[i].m.idiag_family);
	diag_set_free(&set);
}

/*
 * dump_one with an AF_INET6 request finds an IPv6 connection, listener
 * and TIME_WAIT entry, and an IPv4-mapped connection by its mapped
 * 4-tuple; an AF_INET request with the IPv4 4-tuple finds that one too
 * (inet_diag_find_one_icsk() looks up IPv4 4-tuples whatever the
 * socket's family). The reply is the dump's entry.
 */
TEST_F(diag6, dump_one_v6)
{
	int c6 = xtcp_local_port(self->c6), cm = xtcp_local_port(self->cm);
	struct {
		int family;
		const char *src, *dst;
		int lport, rport, state;
	} socks[] = {
		{ AF_INET6, "::1", "::1", c6, self->p6, ST_ESTABLISHED },
		{ AF_INET6, "::1", "::1", self->p6, c6, ST_ESTABLISHED },
		{ AF_INET6, "::1", "::", self->p6, 0, ST_LISTEN },
		{ AF_INET6, "::1", "::1", self->tw6, self->p6, ST_TIME_WAIT },
		{ AF_INET6, "::", "::", self->pd, 0, ST_LISTEN },
		{ AF_INET6, "::ffff:127.0.0.1", "::ffff:127.0.0.1", self->pd,
		  cm, ST_ESTABLISHED },
		{ AF_INET, "127.0.0.1", "127.0.0.1", self->pd, cm,
		  ST_ESTABLISHED },
		{ AF_INET, "127.0.0.1", "127.0.0.1", cm, self->pd,
		  ST_ESTABLISHED },
	};
	struct diag_set all = {};
	size_t i;
	int err;

	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET6, 0, &all));
	ASSERT_EQ(0, diag_dump_family(variant->proto, AF_INET, 0, &all));
	for (i = 0; i < ARRAY_SIZE(socks); i++) {
		struct inet_diag_req_v2 r = diag_req(variant->proto,
						     ALL_STATES, 0);
		const struct diag_sock *d;
		struct diag_set one = {};

		d = diag_find(&all, socks[i].lport, socks[i].rport,
			      socks[i].state);
		ASSERT_NE(NULL, d);
		r.sdiag_family = socks[i].family;
		inet_pton(socks[i].family, socks[i].src, r.id.idiag_src);
		inet_pton(socks[i].family, socks[i].dst, r.id.idiag_dst);
		r.id.idiag_sport = htons(socks[i].lport);
		r.id.idiag_dport = htons(socks[i].rport);
		r.id.idiag_cookie[0] = INET_DIAG_NOCOOKIE;
		r.id.idiag_cookie[1] = INET_DIAG_NOCOOKIE;
		err = diag_query(&r, false, NULL, 0, &one);
		ASSERT_EQ(0, err) TH_LOG("case %zu: %s", i, strerror(-err));
		ASSERT_EQ(1, one.n);
		EXPECT_EQ(d->m.idiag_family, one.v[0].m.idiag_family);
		EXPECT_EQ(0, memcmp(&d->m.id, &one.v[0].m.id,
				    sizeof(d->m.id))) TH_LOG("case %zu", i);
		EXPECT_EQ(socks[i].state, one.v[0].m.idiag_state);
		EXPECT_EQ(d->m.idiag_inode, one.v[0].m.idiag_inode);
		diag_set_free(&one);
	}
	diag_set_free(&all);
}

/*
 * xtcp_diag.ko: $XTCP_DIAG_MODULE, or next to $XTCP_MODULE, or next to
 * xtcp.ko in the build directory (the tests run in build/selftests).
 */
static void diag_module_path(char *buf, size_t len)
{
	const char *env = getenv("XTCP_DIAG_MODULE");
	const char *mod = getenv("XTCP_MODULE");
	const char *slash = mod ? strrchr(mod, '/') : NULL;

	if (env)
		snprintf(buf, len, "%s", env);
	else if (slash)
		snprintf(buf, len, "%.*s/xtcp_diag.ko", (int)(slash - mod), mod);
	else
		snprintf(buf, len, "../xtcp_diag.ko");
}

/*
 * Load xtcp_diag.ko unless it is loaded already: 1 if this test loaded
 * it, 0 if not. insmod resolves no dependencies: a TCP request first has
 * inet_diag loaded (xtcp.ko is, by the runner).
 */
static int diag_module_load(void)
{
	char path[PATH_MAX];
	int fd, ret;

	if (!access("/sys/module/xtcp_diag", F_OK))
		return 0;
	diag_available();
	diag_module_path(path, sizeof(path));
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ksft_print_msg("%s: %s\n", path, strerror(errno));
		return 0;
	}
	ret = syscall(SYS_finit_module, fd, "", 0);
	if (ret)
		ksft_print_msg("loading %s: %s\n", path, strerror(errno));
	close(fd);
	return !ret;
}

static pid_t diag_main_pid;

/*
 * At the end, from the harness's exit() in main's process only: remove
 * it again; inet_diag holds it only during a request.
 */
static void diag_module_unload(void)
{
	__s64 deadline = xp_now_ms() + XTCP_TIMEOUT(10) * 1000;

	if (getpid() != diag_main_pid)
		return;
	while (syscall(SYS_delete_module, "xtcp_diag", O_NONBLOCK)) {
		if ((errno != EAGAIN && errno != EBUSY) ||
		    xp_now_ms() > deadline) {
			ksft_print_msg("removing xtcp_diag: %s\n",
				       strerror(errno));
			return;
		}
		usleep(50000);
	}
}

int main(int argc, char **argv)
{
	diag_main_pid = getpid();
	if (diag_module_load())
		atexit(diag_module_unload);
	return test_harness_run(argc, argv);
}
