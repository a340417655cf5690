// SPDX-License-Identifier: GPL-2.0
/*
 * SYN cookies, against Linux TCP (tcp_syncookies) as the oracle: a
 * connection made through a cookie carries its MSS, window scale and
 * timestamps, and keeps no state before the ACK; a forged ACK gets a RST;
 * under a spoofed SYN flood that fills the half-open slots, the clients
 * that complete their handshake are served; without cookies, a half-open
 * connection costs a small entry, no bigger than Linux's request sock,
 * not a socket. Each over IPv4 (variants tcp, xtcp) and IPv6 (tcp6,
 * xtcp6).
 */

#include <netinet/in.h>
#include <pthread.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define KADDR6		"fd00:9::1"
#define PADDR6		"fd00:9::2"
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)
#define LPORT		9200
#define SYNQ		64	/* half-open slots of the listener */
#define CLIENTS		200

FIXTURE(sc) {
	struct xp_peer p;
	int lfd;
};

FIXTURE_VARIANT(sc) {
	int proto;
	const char *knob;	/* the syncookies knob */
	const char *kaddr;	/* addresses, and so the family */
	const char *paddr;
};

FIXTURE_VARIANT_ADD(sc, tcp) {
	.proto = IPPROTO_TCP,
	.knob = "/proc/sys/net/ipv4/tcp_syncookies",
	.kaddr = KADDR,
	.paddr = PADDR,
};

FIXTURE_VARIANT_ADD(sc, xtcp) {
	.proto = IPPROTO_XTCP,
	.knob = "/proc/sys/net/xtcp/syncookies",
	.kaddr = KADDR,
	.paddr = PADDR,
};

FIXTURE_VARIANT_ADD(sc, tcp6) {
	.proto = IPPROTO_TCP,
	.knob = "/proc/sys/net/ipv4/tcp_syncookies",
	.kaddr = KADDR6,
	.paddr = PADDR6,
};

FIXTURE_VARIANT_ADD(sc, xtcp6) {
	.proto = IPPROTO_XTCP,
	.knob = "/proc/sys/net/xtcp/syncookies",
	.kaddr = KADDR6,
	.paddr = PADDR6,
};

static long cookie_counter(int proto, const char *name)
{
	return proto == IPPROTO_TCP ? xtcp_tcpext(name) : xtcp_counter(name);
}

FIXTURE_SETUP(sc)
{
	struct sockaddr_storage ss;
	socklen_t len;
	int err;

	ASSERT_EQ(0, xp_unshare_net());
	err = xp_open(&self->p, variant->proto, variant->kaddr,
		      variant->paddr);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
	if (variant->proto == IPPROTO_XTCP)
		ASSERT_EQ(0, xtcp_sysctl_set("max_syn_backlog", SYNQ));
	self->lfd = xp_socket(&self->p, SOCK_STREAM);
	ASSERT_LE(0, self->lfd);
	len = xp_sockaddr(&self->p, false, LPORT, &ss);
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&ss, len));
	/* For TCP the backlog also bounds the half-open connections. */
	ASSERT_EQ(0, listen(self->lfd, SYNQ));
}

FIXTURE_TEARDOWN(sc)
{
	close(self->lfd);
	xp_close(&self->p);
}

/*
 * Make @s come from host @host of the peer's subnet (the last byte of
 * the address; 0: the peer's own address), spoofed.
 */
static void spoof(struct xp_seg *s, unsigned int host)
{
	if (!host)
		return;
	if (s->family == AF_INET6)
		s->saddr6.s6_addr[15] = host;
	else
		s->saddr.s_addr = htonl((ntohl(s->saddr.s_addr) & ~0xffU) |
					host);
}

/* A SYN from @host:@sport, with MSS 1460, timestamps and wscale 7. */
static int send_syn(struct xp_peer *p, unsigned int host, __u16 sport,
		    __u32 isn)
{
	struct xp_seg s;

	xp_seg_init(p, &s);
	spoof(&s, host);
	s.sport = sport;
	s.dport = LPORT;
	s.seq = isn;
	s.flags = XP_SYN;
	s.mss = 1460;
	s.wscale = 7;
	s.ts = true;
	s.tsval = 5000;
	return xp_send(p, &s);
}

/*
 * Cookies always on: the SYN-ACK leaves no half-open connection behind;
 * the ACK that returns it makes the connection, which takes data both
 * ways with the options of the SYN.
 */
TEST_F(sc, cookie_makes_the_connection)
{
	struct xp_conn c = { .pport = 9201, .kport = LPORT, .ts = true };
	struct xp_seg synack, s, r;
	char buf[2000];
	long sent, recvd;
	int fd, i;

	ASSERT_EQ(0, xtcp_write_long(variant->knob, 2));
	sent = cookie_counter(variant->proto, "SyncookiesSent");
	recvd = cookie_counter(variant->proto, "SyncookiesRecv");
	ASSERT_EQ(0, send_syn(&self->p, 0, c.pport, 0x50000000));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &synack, CTL,
				    XP_SYN | XP_ACK, 3000));
	EXPECT_EQ(0x50000001U, synack.ack);
	EXPECT_TRUE(synack.ts);
	EXPECT_EQ(7, synack.wscale);
	EXPECT_EQ(sent + 1, cookie_counter(variant->proto, "SyncookiesSent"));
	/* No state was kept for it. */
	EXPECT_EQ(0, xtcp_proc_count(xp_proc_path(&self->p), LPORT,
				     c.pport, 3));

	c.k_nxt = synack.seq + 1;
	c.p_nxt = 0x50000001;
	c.p_tsval = 5001;
	c.k_tsval = synack.tsval;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	s.window = 1000;	/* scaled by 7: 128,000 bytes */
	ASSERT_EQ(0, xp_send(&self->p, &s));
	fd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, fd);
	EXPECT_EQ(recvd + 1, cookie_counter(variant->proto, "SyncookiesRecv"));

	/* The peer's data arrives; ours goes out in segments of the MSS the
	 * cookie kept, under the scaled window.
	 */
	ASSERT_EQ(0, xp_conn_data(&self->p, &c, "hello", 5));
	ASSERT_EQ(5, recv(fd, buf, sizeof(buf), 0));
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	memset(buf, 'x', sizeof(buf));
	ASSERT_EQ((ssize_t)sizeof(buf), send(fd, buf, sizeof(buf), 0));
	for (i = 0; i < 2; i++) {
		do {
			ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, CTL,
						    XP_ACK, 3000));
		} while (!r.len);
		EXPECT_GE(1460U - 12, r.len);
		EXPECT_TRUE(r.ts);
	}
	close(fd);
}

/*
 * Once cookies were sent, an ACK that returns no cookie of ours is
 * checked, counted and refused with a RST.
 */
TEST_F(sc, forged_ack_is_reset)
{
	struct xp_conn c = { .pport = 9202, .kport = LPORT };
	struct xp_seg s, r;
	long failed;

	ASSERT_EQ(0, xtcp_write_long(variant->knob, 2));
	ASSERT_EQ(0, send_syn(&self->p, 0, 9203, 0x70000000));
	ASSERT_EQ(0, xp_expect(&self->p, &r, CTL, XP_SYN | XP_ACK, 3000));
	failed = cookie_counter(variant->proto, "SyncookiesFailed");
	c.k_nxt = 0x12345678;
	c.p_nxt = 0x60000001;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_conn_expect(&self->p, &c, &r, CTL, XP_RST, 3000));
	EXPECT_EQ(failed + 1,
		  cookie_counter(variant->proto, "SyncookiesFailed"));
}

struct acceptor {
	int lfd;
	volatile bool stop;
};

/* Serve each connection: echo one byte, close. */
static void *acceptor(void *arg)
{
	struct acceptor *a = arg;
	char b;

	while (!a->stop) {
		int fd;

		if (!(xtcp_wait_fd(a->lfd, POLLIN, 100) & POLLIN))
			continue;
		fd = accept(a->lfd, NULL, NULL);
		if (fd < 0)
			continue;
		if (xtcp_wait_fd(fd, POLLIN, 2000) & POLLIN &&
		    recv(fd, &b, 1, 0) == 1)
			send(fd, &b, 1, 0);
		close(fd);
	}
	return NULL;
}

/* A client from this host: connect, one byte each way, within @ms. */
static bool served(const struct xp_peer *p, int ms)
{
	struct sockaddr_storage ss;
	socklen_t len = xp_sockaddr(p, false, LPORT, &ss);
	bool ok = false;
	char b = 'z';
	int fd;

	fd = xp_socket(p, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0)
		return false;
	if (connect(fd, (struct sockaddr *)&ss, len) &&
	    errno != EINPROGRESS)
		goto out;
	if (!(xtcp_wait_fd(fd, POLLOUT, ms) & POLLOUT) ||
	    xtcp_get_int(fd, SOL_SOCKET, SO_ERROR) ||
	    send(fd, &b, 1, 0) != 1)
		goto out;
	ok = xtcp_wait_fd(fd, POLLIN, ms) & POLLIN && recv(fd, &b, 1, 0) == 1 &&
	     b == 'z';
out:
	close(fd);
	return ok;
}

/*
 * Spoofed SYNs from hosts 3-250 of the peer's subnet, random ports: they
 * never complete.
 */
static int flood(struct xp_peer *p, unsigned int *seed, int n)
{
	int i;

	for (i = 0; i < n; i++) {
		if (send_syn(p, 3 + rand_r(seed) % 248,
			     1024 + rand_r(seed) % 60000,
			     rand_r(seed)))
			return -1;
	}
	xp_drain(p);
	return 0;
}

/*
 * Fill the half-open slots with a spoofed flood, and keep flooding while
 * clients connect: with cookies, at least 99 % of CLIENTS are served;
 * without, the flood is shown to be effective (almost none of 20 are).
 */
TEST_F(sc, syn_flood)
{
	static const int modes[] = { 0, 1 };
	unsigned int seed = 1;
	size_t m;

	for (m = 0; m < ARRAY_SIZE(modes); m++) {
		struct acceptor a = { .lfd = self->lfd };
		int cookies = modes[m], clients = cookies ? CLIENTS : 20;
		int i, ok = 0;
		pthread_t th;

		ASSERT_EQ(0, xtcp_write_long(variant->knob, cookies));
		ASSERT_EQ(0, flood(&self->p, &seed, 4 * SYNQ));
		ASSERT_TRUE(xtcp_wait_until(xtcp_proc_count(xp_proc_path(&self->p),
							    LPORT, -1, 3) >= SYNQ,
					    5000));
		ASSERT_EQ(0, pthread_create(&th, NULL, acceptor, &a));
		for (i = 0; i < clients; i++) {
			ASSERT_EQ(0, flood(&self->p, &seed, 10));
			ok += served(&self->p, cookies ? 3000 : 300);
		}
		a.stop = true;
		pthread_join(th, NULL);
		TH_LOG("%s, syncookies %d: %d of %d clients served (%.1f %%) under a flood of %d SYNs; SyncookiesSent %ld",
		       variant->proto == IPPROTO_TCP ? "TCP" : "xtcp", cookies,
		       ok, clients, 100.0 * ok / clients,
		       4 * SYNQ + 10 * clients,
		       cookie_counter(variant->proto, "SyncookiesSent"));
		if (cookies) {
			EXPECT_LE(clients * 99, ok * 100);
		} else {
			EXPECT_GE(clients / 10, ok);
		}
	}
}

/* The size of an object of cache @name without debug metadata, or -1. */
static long slab_object_size(const char *name)
{
	char path[128], buf[32];

	snprintf(path, sizeof(path), "/sys/kernel/slab/%s/object_size", name);
	if (xtcp_read_file(path, buf, sizeof(buf)) < 0)
		return -1;
	return strtol(buf, NULL, 10);
}

/* Bytes held by the objects of slab cache @name, 0 if it has none. */
static long slab_bytes(const char *name)
{
	struct xtcp_slab s;

	return xtcp_slab_read(name, &s) ? 0 : s.active * s.objsize;
}

/*
 * Memory per half-open connection under a spoofed flood, syncookies off
 * (Documentation/xtcp-internals.rst "Half-open connections"): what the
 * socket cache and the half-open cache of the protocol grew by, over the
 * half-open connections /proc shows. TCP keeps a request sock per SYN,
 * no socket; xtcp must do as well: no socket, and an entry no bigger.
 */
#define FLOOD_PORT	(LPORT + 50)
#define FLOOD_SYNS	600

TEST_F(sc, flood_memory)
{
	bool v6 = self->p.family == AF_INET6;
	const char *sock_cache = variant->proto == IPPROTO_TCP ?
				 (v6 ? "TCPv6" : "TCP") :
				 (v6 ? "XTCPv6" : "XTCP");
	const char *tcp_req_cache = v6 ? "request_sock_TCPv6" :
					 "request_sock_TCP";
	const char *req_cache = variant->proto == IPPROTO_TCP ?
				tcp_req_cache : "xtcp_req";
	long sock0, req0, sock1, req1, per, tcp_req = 0;
	const char *proc = xp_proc_path(&self->p);
	struct xtcp_slab tcp_slab, sock_slab;
	struct sockaddr_storage ss;
	unsigned int seed = 7;
	int lfd, i, n, last = -1;
	socklen_t len;

	ASSERT_EQ(0, xtcp_write_long(variant->knob, 0));
	if (variant->proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("max_syn_backlog", 4096));
	} else {
		ASSERT_EQ(0, xtcp_write_long("/proc/sys/net/ipv4/tcp_max_syn_backlog",
					     4096));
	}
	lfd = xp_socket(&self->p, SOCK_STREAM);
	ASSERT_LE(0, lfd);
	len = xp_sockaddr(&self->p, false, FLOOD_PORT, &ss);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&ss, len));
	ASSERT_EQ(0, listen(lfd, 4096));

	sock0 = slab_bytes(sock_cache);
	req0 = slab_bytes(req_cache);
	for (i = 0; i < FLOOD_SYNS; i++) {
		struct xp_seg s;

		xp_seg_init(&self->p, &s);
		spoof(&s, 3 + rand_r(&seed) % 248);
		s.sport = 1024 + rand_r(&seed) % 60000;
		s.dport = FLOOD_PORT;
		s.seq = rand_r(&seed);
		s.flags = XP_SYN;
		s.mss = 1460;
		s.wscale = 7;
		s.ts = true;
		s.tsval = 5000;
		ASSERT_EQ(0, xp_send(&self->p, &s));
		if (i % 64 == 63)
			xp_drain(&self->p);
	}
	xp_drain(&self->p);
	/* All in once the count stops growing. */
	for (;;) {
		if (!xtcp_wait_until((n = xtcp_proc_count(proc, FLOOD_PORT, -1, 3)) != last,
				     1000))
			break;
		last = n;
	}
	ASSERT_LE(FLOOD_SYNS * 9 / 10, n);
	sock1 = slab_bytes(sock_cache);
	req1 = slab_bytes(req_cache);
	per = (sock1 - sock0 + req1 - req0) / n;
	ASSERT_EQ(0, xtcp_slab_read(sock_cache, &sock_slab));
	if (!xtcp_slab_read(tcp_req_cache, &tcp_slab))
		tcp_req = tcp_slab.objsize;
	TH_LOG("%s: %d half-open connections: socket cache %+ld bytes, half-open cache %+ld bytes: %ld bytes each (a %s object is %ld bytes, a %s %ld, debug metadata included)",
	       variant->proto == IPPROTO_TCP ? "TCP" : "xtcp", n,
	       sock1 - sock0, req1 - req0, per, sock_cache, sock_slab.objsize,
	       tcp_req_cache, tcp_req);
	TH_LOG("object sizes without debug metadata: %s %ld, %s %ld, %s %ld",
	       sock_cache, slab_object_size(sock_cache), req_cache,
	       slab_object_size(req_cache), tcp_req_cache,
	       slab_object_size(tcp_req_cache));
	/* Not a socket each: a fraction of one. */
	EXPECT_GT(sock_slab.objsize / 3, per);
	if (variant->proto == IPPROTO_XTCP && tcp_req) {
		/* No bigger than TCP's request sock, slack for one slab. */
		EXPECT_GE(tcp_req + tcp_req / 4, per);
	}
	close(lfd);
}

TEST_HARNESS_MAIN
