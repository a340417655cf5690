// SPDX-License-Identifier: GPL-2.0
/*
 * Native IPv6 connections over ::1: socket(AF_INET6, SOCK_STREAM, proto),
 * bind, listen, connect, accept, names, data both ways, orderly close,
 * TIME_WAIT holding the port, RST for a port without a listener, the
 * lines of /proc/net/xtcp6 against those of /proc/net/tcp6, ICMPv6
 * errors (RFC 4443) quoting a segment caught on lo: Destination
 * Unreachable failing a connect() and soft on a connection, Packet Too
 * Big lowering the MSS, each dropped and counted when it quotes no
 * sequence number in flight; flow labels (RFC 6437): one random label
 * per connection, its SYN-ACK's included, a new one after a timeout, the
 * label of IPV6_FLOWINFO_SEND and reflected ones; dual stack, AF_INET6
 * sockets with IPv4 peers; and, against a scripted peer, IPV6_TCLASS on
 * the wire (set, changed, inherited from a listener) and
 * IPV6_MINHOPCOUNT dropping what comes from too far. Linux TCP over IPv6
 * is the oracle.
 */

#include <arpa/inet.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/icmp6.h>
#include <netinet/in.h>
#include <netinet/ip6.h>
#include <netinet/tcp.h>
#include <linux/in6.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"

/* The harness's fork()ed child may be clobbered by its longjmp(): it is
 * not used after one.
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#define V6_BULK (256 * 1024)

FIXTURE(v6) {
	int lfd;
	struct sockaddr_in6 laddr;
};

FIXTURE_VARIANT(v6) {
	int proto;
};

FIXTURE_VARIANT_ADD(v6, tcp6) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(v6, xtcp6) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(v6)
{
	socklen_t len = sizeof(self->laddr);

	ASSERT_EQ(0, system("ip link set lo up"));
	memset(&self->laddr, 0, sizeof(self->laddr));
	self->laddr.sin6_family = AF_INET6;
	self->laddr.sin6_addr = in6addr_loopback;
	self->lfd = socket(AF_INET6, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, self->lfd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&self->laddr,
			  sizeof(self->laddr)));
	ASSERT_EQ(0, listen(self->lfd, 8));
	ASSERT_EQ(0, getsockname(self->lfd, (struct sockaddr *)&self->laddr,
				 &len));
}

FIXTURE_TEARDOWN(v6)
{
	close(self->lfd);
}

static int v6_sockopt_int(int fd, int level, int name)
{
	socklen_t len = sizeof(int);
	int val;

	if (getsockopt(fd, level, name, &val, &len))
		return -errno;
	return val;
}

/* A connection to the fixture's listener from @cport (0: any). */
static int v6_connect(int proto, const struct sockaddr_in6 *to, in_port_t cport)
{
	struct sockaddr_in6 me = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
		.sin6_port = cport,
	};
	int fd = socket(AF_INET6, SOCK_STREAM, proto);

	if (fd < 0)
		return -errno;
	if ((cport && bind(fd, (struct sockaddr *)&me, sizeof(me))) ||
	    connect(fd, (const struct sockaddr *)to, sizeof(*to))) {
		int err = -errno;

		close(fd);
		return err;
	}
	return fd;
}

static bool v6_same(const struct sockaddr_in6 *a, const struct sockaddr_in6 *b)
{
	return a->sin6_family == b->sin6_family &&
	       a->sin6_port == b->sin6_port &&
	       !memcmp(&a->sin6_addr, &b->sin6_addr, sizeof(a->sin6_addr));
}

TEST_F(v6, identity)
{
	int fd = socket(AF_INET6, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	EXPECT_EQ(AF_INET6, v6_sockopt_int(fd, SOL_SOCKET, SO_DOMAIN));
	EXPECT_EQ(variant->proto, v6_sockopt_int(fd, SOL_SOCKET,
						 SO_PROTOCOL));
	/* IPv6-level options reach the generic IPv6 code. */
	EXPECT_EQ(0, v6_sockopt_int(fd, SOL_IPV6, IPV6_V6ONLY));
	close(fd);
}

/* Names, data both ways (its checksums on the way), orderly close. */
TEST_F(v6, connect_data_close)
{
	struct sockaddr_in6 cname, cpeer, aname, apeer;
	socklen_t len;
	static unsigned char out[V6_BULK], in[V6_BULK];
	size_t i, got = 0, sent = 0;
	int cfd, afd;
	char c;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (unsigned char)(i * 7 + i / 251);
	cfd = v6_connect(variant->proto, &self->laddr, 0);
	ASSERT_LE(0, cfd) TH_LOG("connect: %s", strerror(-cfd));
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);

	len = sizeof(cname);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&cname, &len));
	len = sizeof(cpeer);
	ASSERT_EQ(0, getpeername(cfd, (struct sockaddr *)&cpeer, &len));
	len = sizeof(aname);
	ASSERT_EQ(0, getsockname(afd, (struct sockaddr *)&aname, &len));
	len = sizeof(apeer);
	ASSERT_EQ(0, getpeername(afd, (struct sockaddr *)&apeer, &len));
	EXPECT_TRUE(v6_same(&cpeer, &self->laddr));
	EXPECT_TRUE(v6_same(&aname, &self->laddr));
	EXPECT_TRUE(v6_same(&apeer, &cname));
	EXPECT_EQ(0, memcmp(&cname.sin6_addr, &in6addr_loopback,
			    sizeof(in6addr_loopback)));
	EXPECT_NE(0, cname.sin6_port);
	/* The MSS comes from the route: loopback's 64 KiB MTU. */
	EXPECT_LT(16384, v6_sockopt_int(cfd, SOL_TCP, TCP_MAXSEG));
	EXPECT_LT(16384, v6_sockopt_int(afd, SOL_TCP, TCP_MAXSEG));

	/* Client to server, interleaved so that neither buffer fills. */
	while (got < sizeof(in)) {
		ssize_t n;

		if (sent < sizeof(out)) {
			n = send(cfd, out + sent, sizeof(out) - sent,
				 MSG_DONTWAIT);
			if (n > 0)
				sent += n;
			else
				ASSERT_EQ(EAGAIN, errno);
		}
		n = recv(afd, in + got, sizeof(in) - got, MSG_DONTWAIT);
		if (n > 0)
			got += n;
		else
			ASSERT_TRUE(n < 0 && errno == EAGAIN);
	}
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));

	/* Server to client. */
	ASSERT_EQ(5, send(afd, "hello", 5, 0));
	memset(in, 0, 5);
	ASSERT_EQ(5, recv(cfd, in, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(in, "hello", 5));

	/* Orderly close, the client first. */
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	close(afd);
	EXPECT_EQ(0, recv(cfd, &c, 1, 0));
	close(cfd);
}

/* The active closer's port stays held in TIME_WAIT. */
TEST_F(v6, time_wait_holds_port)
{
	struct sockaddr_in6 cname = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
	};
	socklen_t len = sizeof(cname);
	int cfd, afd, fd;
	char c;

	cfd = v6_connect(variant->proto, &self->laddr, 0);
	ASSERT_LE(0, cfd);
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&cname, &len));

	close(cfd);
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	close(afd);

	/* The client's end is in TIME_WAIT once the server's FIN is in:
	 * the port cannot be bound again, with or without a connection.
	 */
	fd = socket(AF_INET6, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, fd);
	EXPECT_EQ(-1, bind(fd, (struct sockaddr *)&cname, sizeof(cname)));
	EXPECT_EQ(EADDRINUSE, errno);
	close(fd);
}

/* No listener: the SYN is answered with a RST. */
TEST_F(v6, refused)
{
	struct sockaddr_in6 to = self->laddr;
	int fd;

	close(self->lfd);
	self->lfd = -1;
	fd = v6_connect(variant->proto, &to, 0);
	EXPECT_EQ(-ECONNREFUSED, fd);
	if (fd >= 0)
		close(fd);
}

/* An IPv4 listener does not see IPv6 connections, nor the reverse. */
TEST_F(v6, families_apart)
{
	struct sockaddr_in sin = {
		.sin_family = AF_INET,
		.sin_addr.s_addr = htonl(INADDR_LOOPBACK),
		.sin_port = self->laddr.sin6_port,
	};
	int fd = socket(AF_INET, SOCK_STREAM, variant->proto);

	ASSERT_LE(0, fd);
	/* Only ::1 listens on the port: 127.0.0.1 has no listener. */
	EXPECT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	EXPECT_EQ(ECONNREFUSED, errno);
	close(fd);
}

#ifndef IPV6_FREEBIND
#define IPV6_FREEBIND 78
#endif

/* The header line of /proc/net/tcp6; /proc/net/xtcp6 adds " age_ms". */
#define V6_PROC_HDR "  sl  local_address                         " \
	"remote_address                        st tx_queue rx_queue tr " \
	"tm->when retrnsmt   uid  timeout inode"

/* A peer that is not local, routed to lo where nothing takes it. */
#define V6_FAR "2001:db8::1"

/* One line of /proc/net/tcp6 or /proc/net/xtcp6. */
struct v6_proc_entry {
	char laddr[33];
	unsigned int lport;
	char raddr[33];
	unsigned int rport;
	unsigned int state;
	unsigned int tr;
	unsigned long inode;
};

static const char *v6_proc_path(int proto)
{
	return proto == IPPROTO_TCP ? "/proc/net/tcp6" : "/proc/net/xtcp6";
}

/* @a as the file prints it: four 32-bit words, each read by the host. */
static void v6_proc_addr(const struct in6_addr *a, char *buf, size_t len)
{
	__u32 w[4];

	memcpy(w, a, sizeof(w));
	snprintf(buf, len, "%08X%08X%08X%08X", w[0], w[1], w[2], w[3]);
}

/*
 * The line of @path from @lport to @rport into *@e, the header line into
 * @hdr: the number of such lines, or -errno.
 */
static int v6_proc_find(const char *path, unsigned int lport,
			unsigned int rport, char *hdr, size_t hdrlen,
			struct v6_proc_entry *e)
{
	struct v6_proc_entry cur;
	char line[512];
	int n = 0;
	FILE *f;

	f = fopen(path, "r");
	if (!f)
		return -errno;
	if (!fgets(hdr, hdrlen, f)) {
		fclose(f);
		return -EIO;
	}
	while (fgets(line, sizeof(line), f)) {
		int sl;
		unsigned int txq, rxq, retr, uid;
		unsigned long when;
		int tmo;

		if (sscanf(line, " %d: %32[0-9A-F]:%x %32[0-9A-F]:%x %x %x:%x %x:%lx %x %u %d %lu",
			   &sl, cur.laddr, &cur.lport, cur.raddr, &cur.rport,
			   &cur.state, &txq, &rxq, &cur.tr, &when, &retr, &uid,
			   &tmo, &cur.inode) != 14)
			continue;
		if (cur.lport != lport || cur.rport != rport)
			continue;
		if (!n++)
			*e = cur;
	}
	fclose(f);
	return n;
}

static unsigned long v6_ino(int fd)
{
	struct stat st;

	return fstat(fd, &st) ? 0 : st.st_ino;
}

/* A SYN to @to from V6_FAR:@sport, sent raw: its SYN-ACK goes nowhere. */
static int v6_far_syn(int proto, const struct sockaddr_in6 *to,
		      in_port_t sport)
{
	struct sockaddr_in6 src = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 dst = *to;
	struct tcphdr th = {
		.source = sport,
		.dest = to->sin6_port,
		.seq = htonl(1000),
		.doff = 5,
		.syn = 1,
		.window = htons(65535),
	};
	int one = 1, off = 16, fd, err = 0;

	fd = socket(AF_INET6, SOCK_RAW, proto);
	if (fd < 0)
		return -errno;
	dst.sin6_port = 0;
	inet_pton(AF_INET6, V6_FAR, &src.sin6_addr);
	/* The kernel fills in the checksum at offset 16. */
	if (setsockopt(fd, SOL_IPV6, IPV6_FREEBIND, &one, sizeof(one)) ||
	    setsockopt(fd, SOL_IPV6, IPV6_CHECKSUM, &off, sizeof(off)) ||
	    bind(fd, (struct sockaddr *)&src, sizeof(src)) ||
	    sendto(fd, &th, sizeof(th), 0, (struct sockaddr *)&dst,
		   sizeof(dst)) != sizeof(th))
		err = -errno;
	close(fd);
	return err;
}

/*
 * Each kind of line, in the layout of /proc/net/tcp6: the header, the
 * addresses and ports, the states, the timers and the inodes, which are
 * those of the sockets (as ss finds a socket's process); none in the
 * IPv4 file.
 */
TEST_F(v6, proc_net)
{
	const char *path = v6_proc_path(variant->proto);
	unsigned int lport = ntohs(self->laddr.sin6_port);
	struct sockaddr_in6 cname;
	struct v6_proc_entry e;
	char lo[33], any[33], far[33], hdr[512];
	socklen_t len = sizeof(cname);
	struct in6_addr far_addr;
	unsigned int cport;
	int cfd, afd;
	char c;

	v6_proc_addr(&in6addr_loopback, lo, sizeof(lo));
	v6_proc_addr(&in6addr_any, any, sizeof(any));
	ASSERT_EQ(1, inet_pton(AF_INET6, V6_FAR, &far_addr));
	v6_proc_addr(&far_addr, far, sizeof(far));
	ASSERT_EQ(0, strcmp(lo, "00000000000000000000000001000000"));

	/* The listener. */
	ASSERT_EQ(1, v6_proc_find(path, lport, 0, hdr, sizeof(hdr), &e));
	EXPECT_EQ(0, strncmp(hdr, V6_PROC_HDR, strlen(V6_PROC_HDR)))
		TH_LOG("header: %s", hdr);
	if (variant->proto == IPPROTO_XTCP) {
		EXPECT_STREQ(V6_PROC_HDR " age_ms\n", hdr);
	}
	EXPECT_STREQ(lo, e.laddr);
	EXPECT_STREQ(any, e.raddr);
	EXPECT_EQ(0x0Au, e.state);
	EXPECT_EQ(v6_ino(self->lfd), e.inode);
	EXPECT_EQ(0, xtcp_proc_count(xtcp_proc_path(variant->proto), lport,
				     -1, -1));

	/* A connection, both ends. */
	cfd = v6_connect(variant->proto, &self->laddr, 0);
	ASSERT_LE(0, cfd);
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&cname, &len));
	cport = ntohs(cname.sin6_port);
	ASSERT_EQ(1, v6_proc_find(path, cport, lport, hdr, sizeof(hdr), &e));
	EXPECT_STREQ(lo, e.laddr);
	EXPECT_STREQ(lo, e.raddr);
	EXPECT_EQ(0x01u, e.state);
	EXPECT_EQ(v6_ino(cfd), e.inode);
	ASSERT_EQ(1, v6_proc_find(path, lport, cport, hdr, sizeof(hdr), &e));
	EXPECT_EQ(0x01u, e.state);
	EXPECT_EQ(v6_ino(afd), e.inode);
	EXPECT_NE(v6_ino(afd), v6_ino(cfd));
	EXPECT_EQ(0, xtcp_proc_count(xtcp_proc_path(variant->proto), cport,
				     -1, -1));

	/* A half-open entry: SYN_RCVD, the SYN-ACK timer, no inode. */
	ASSERT_EQ(0, system("ip -6 route replace " V6_FAR "/128 dev lo"));
	ASSERT_EQ(0, v6_far_syn(variant->proto, &self->laddr, htons(40000)));
	ASSERT_TRUE(xtcp_wait_until(v6_proc_find(path, lport, 40000, hdr,
						 sizeof(hdr), &e) == 1, 2000));
	EXPECT_STREQ(lo, e.laddr);
	EXPECT_STREQ(far, e.raddr);
	EXPECT_EQ(0x03u, e.state);
	EXPECT_EQ(1u, e.tr);
	EXPECT_EQ(0ul, e.inode);

	/* The active closer's TIME_WAIT entry: timer 3, no inode. */
	close(cfd);
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	close(afd);
	ASSERT_TRUE(xtcp_wait_until(v6_proc_find(path, cport, lport, hdr,
						 sizeof(hdr), &e) == 1 &&
				    e.state == 0x06, 2000));
	EXPECT_STREQ(lo, e.laddr);
	EXPECT_STREQ(lo, e.raddr);
	EXPECT_EQ(3u, e.tr);
	EXPECT_EQ(0ul, e.inode);
	EXPECT_EQ(0, xtcp_proc_count(xtcp_proc_path(variant->proto), cport,
				     -1, -1));
}

/*
 * Local addresses on lo besides ::1: a SYN to V6_SINK is caught and then
 * dropped before the input (tc ingress), so that it is never answered.
 */
#define V6_NEAR "2001:db8::2"
#define V6_SINK "2001:db8::3"

/* A packet socket on lo that sees what goes through it, tc or not. */
static int v6_cap_open(void)
{
	struct sockaddr_ll sll = {
		.sll_family = AF_PACKET,
		.sll_protocol = htons(ETH_P_ALL),
		.sll_ifindex = if_nametoindex("lo"),
	};
	int fd = socket(AF_PACKET, SOCK_DGRAM, htons(ETH_P_ALL));

	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sll, sizeof(sll))) {
		close(fd);
		return -errno;
	}
	return fd;
}

/*
 * The next segment of @proto from port @sport to port @dport into @pkt
 * (IPv6 header first), with data if @data: its length, or -ETIMEDOUT.
 */
static int v6_cap_seg(int cap, int proto, unsigned int sport,
		      unsigned int dport, bool data, __u8 *pkt, size_t len)
{
	__s64 deadline = xp_now_ms() + XTCP_TIMEOUT(3000);

	while (xp_now_ms() < deadline) {
		struct pollfd pfd = { .fd = cap, .events = POLLIN };
		const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkt;
		const struct tcphdr *th;
		ssize_t n;

		if (poll(&pfd, 1, 100) <= 0)
			continue;
		n = recv(cap, pkt, len, 0);
		if (n < 40 + 20 || (ip6->ip6_vfc >> 4) != 6 ||
		    ip6->ip6_nxt != proto)
			continue;
		th = (const struct tcphdr *)(pkt + 40);
		if (ntohs(th->source) != sport || ntohs(th->dest) != dport)
			continue;
		if (data && n <= 40 + th->doff * 4)
			continue;
		return n;
	}
	return -ETIMEDOUT;
}

/*
 * An ICMPv6 error to the quoted packet's source, quoting its IPv6 header
 * and the first 8 bytes of our header, the sequence number plus
 * @seq_delta. The kernel sums ICMPv6 itself. 0 or -errno.
 */
static int v6_send_icmp(__u8 type, __u8 code, __u32 info, const __u8 *pkt,
			__u32 seq_delta)
{
	const struct ip6_hdr *ip6 = (const struct ip6_hdr *)pkt;
	struct sockaddr_in6 to = {
		.sin6_family = AF_INET6,
		.sin6_addr = ip6->ip6_src,
	};
	__u8 msg[8 + 40 + 8];
	struct icmp6_hdr *ih = (struct icmp6_hdr *)msg;
	__u32 seq;
	int fd, err = 0;

	memset(msg, 0, sizeof(msg));
	ih->icmp6_type = type;
	ih->icmp6_code = code;
	ih->icmp6_data32[0] = htonl(info);
	memcpy(msg + 8, pkt, 48);
	memcpy(&seq, msg + 8 + 40 + 4, 4);
	seq = htonl(ntohl(seq) + seq_delta);
	memcpy(msg + 8 + 40 + 4, &seq, 4);

	fd = socket(AF_INET6, SOCK_RAW, IPPROTO_ICMPV6);
	if (fd < 0)
		return -errno;
	if (sendto(fd, msg, sizeof(msg), 0, (struct sockaddr *)&to,
		   sizeof(to)) != sizeof(msg))
		err = -errno;
	close(fd);
	return err;
}

static int v6_so_error(int fd)
{
	return v6_sockopt_int(fd, SOL_SOCKET, SO_ERROR);
}

/*
 * A connect() in SYN_SENT from V6_NEAR to V6_SINK, its SYN in @syn: the
 * socket, or -errno.
 */
static int v6_far_connect(int proto, int cap, __u8 *syn, size_t len)
{
	struct sockaddr_in6 me = { .sin6_family = AF_INET6 };
	struct sockaddr_in6 to = {
		.sin6_family = AF_INET6,
		.sin6_port = htons(9),
	};
	socklen_t alen = sizeof(me);
	int fd, err;

	if (system("ip -6 addr replace " V6_NEAR "/128 dev lo nodad") ||
	    system("ip -6 addr replace " V6_SINK "/128 dev lo nodad"))
		return -EIO;
	/* Kernels without the u32 classifier cannot drop the SYN alone. */
	if (system("tc qdisc replace dev lo clsact && "
		   "tc filter replace dev lo ingress pref 1 protocol ipv6 "
		   "u32 match ip6 dst " V6_SINK "/128 action drop"))
		return -EOPNOTSUPP;
	inet_pton(AF_INET6, V6_SINK, &to.sin6_addr);
	inet_pton(AF_INET6, V6_NEAR, &me.sin6_addr);
	fd = socket(AF_INET6, SOCK_STREAM | SOCK_NONBLOCK, proto);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&me, sizeof(me)) ||
	    getsockname(fd, (struct sockaddr *)&me, &alen) ||
	    (connect(fd, (struct sockaddr *)&to, sizeof(to)) &&
	     errno != EINPROGRESS)) {
		err = -errno;
		close(fd);
		return err;
	}
	err = v6_cap_seg(cap, proto, ntohs(me.sin6_port), 9, false, syn, len);
	if (err < 0) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * SYN_SENT: an unreachable that quotes no sequence number in flight is
 * dropped and counted, one that quotes the SYN fails the connect() with
 * its errno (RFC 4443 3.1: 1, administratively prohibited, is EACCES).
 */
TEST_F(v6, icmp6_syn_unreach)
{
	long before = xtcp_proto_counter(variant->proto, "OutOfWindowIcmps");
	struct pollfd pfd = { .events = POLLOUT };
	__u8 syn[256];
	int cap, fd;

	ASSERT_LE(0, before);
	cap = v6_cap_open();
	ASSERT_LE(0, cap) TH_LOG("packet socket: %s", strerror(-cap));
	fd = v6_far_connect(variant->proto, cap, syn, sizeof(syn));
	if (fd == -EOPNOTSUPP) {
		close(cap);
		SKIP(return, "no tc u32 classifier to drop the SYN with");
	}
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));

	ASSERT_EQ(0, v6_send_icmp(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0,
				  syn, 1000));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       "OutOfWindowIcmps") ==
				    before + 1, 2000));
	EXPECT_EQ(0, v6_so_error(fd));

	ASSERT_EQ(0, v6_send_icmp(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADMIN,
				  0, syn, 0));
	pfd.fd = fd;
	EXPECT_EQ(1, poll(&pfd, 1, 2000));
	EXPECT_EQ(EACCES, v6_so_error(fd));
	EXPECT_EQ(-1, send(fd, "x", 1, MSG_NOSIGNAL));
	close(fd);
	close(cap);
}

/*
 * An unrecognized next header (RFC 4443 3.4, code 1) is what a host
 * without xtcp answers: for xtcp a refused connection, as ICMP's protocol
 * unreachable; TCP reports EPROTO (Documentation/xtcp.rst "Path MTU and
 * ICMP").
 */
TEST_F(v6, icmp6_syn_unknown_next_header)
{
	struct pollfd pfd = { .events = POLLOUT };
	__u8 syn[256];
	int cap, fd;

	cap = v6_cap_open();
	ASSERT_LE(0, cap) TH_LOG("packet socket: %s", strerror(-cap));
	fd = v6_far_connect(variant->proto, cap, syn, sizeof(syn));
	if (fd == -EOPNOTSUPP) {
		close(cap);
		SKIP(return, "no tc u32 classifier to drop the SYN with");
	}
	ASSERT_LE(0, fd) TH_LOG("connect: %s", strerror(-fd));
	ASSERT_EQ(0, v6_send_icmp(ICMP6_PARAM_PROB, ICMP6_PARAMPROB_NEXTHEADER,
				  6, syn, 0));
	pfd.fd = fd;
	EXPECT_EQ(1, poll(&pfd, 1, 2000));
	EXPECT_EQ(variant->proto == IPPROTO_TCP ? EPROTO : ECONNREFUSED,
		  v6_so_error(fd));
	close(fd);
	close(cap);
}

/* A connection over ::1 and a data segment of the client's, caught. */
static int v6_estab_caught(int proto, int lfd, const struct sockaddr_in6 *to,
			   int cap, int *afd, __u8 *seg, size_t len)
{
	struct sockaddr_in6 me;
	socklen_t alen = sizeof(me);
	int cfd, n;
	char c;

	cfd = v6_connect(proto, to, 0);
	if (cfd < 0)
		return cfd;
	*afd = accept(lfd, NULL, NULL);
	if (*afd < 0 || getsockname(cfd, (struct sockaddr *)&me, &alen) ||
	    send(cfd, "x", 1, 0) != 1 || recv(*afd, &c, 1, 0) != 1) {
		close(cfd);
		return -EIO;
	}
	n = v6_cap_seg(cap, proto, ntohs(me.sin6_port), ntohs(to->sin6_port),
		       true, seg, len);
	if (n < 0) {
		close(cfd);
		close(*afd);
		return n;
	}
	return cfd;
}

/* The flow label of a caught IPv6 packet. */
static __u32 v6_label(const __u8 *pkt)
{
	return ntohl(((const struct ip6_hdr *)pkt)->ip6_flow) & 0xfffff;
}

/* A client port of its own for each test program and variant. */
static in_port_t v6_cport(int proto, int n)
{
	return htons(30000 + (getpid() % 1000) * 8 + (proto == IPPROTO_TCP) * 4 +
		     n);
}

/*
 * Automatic flow labels: every packet of a connection carries the same
 * one, the server's SYN-ACK the label of the server's side; the same
 * 4-tuple connected again gets another (a random hash per connection,
 * not one of the addresses and ports).
 */
TEST_F(v6, flowlabel_per_connection)
{
	struct linger lin = { .l_onoff = 1, .l_linger = 0 };
	in_port_t cport = v6_cport(variant->proto, 0);
	__u16 sport = ntohs(self->laddr.sin6_port);
	__u32 client[2], synack, server;
	__u8 pkt[512];
	int i, cap, cfd, afd;

	for (i = 0; i < 2; i++) {
		cap = v6_cap_open();
		ASSERT_LE(0, cap);
		cfd = v6_connect(variant->proto, &self->laddr, cport);
		ASSERT_LE(0, cfd) TH_LOG("connect: %s", strerror(-cfd));
		afd = accept(self->lfd, NULL, NULL);
		ASSERT_LE(0, afd);
		ASSERT_LT(0, v6_cap_seg(cap, variant->proto, sport,
					ntohs(cport), false, pkt, sizeof(pkt)));
		synack = v6_label(pkt);
		ASSERT_EQ(1, send(afd, "s", 1, 0));
		ASSERT_LT(0, v6_cap_seg(cap, variant->proto, sport,
					ntohs(cport), true, pkt, sizeof(pkt)));
		server = v6_label(pkt);
		ASSERT_EQ(1, send(cfd, "c", 1, 0));
		ASSERT_LT(0, v6_cap_seg(cap, variant->proto, ntohs(cport),
					sport, true, pkt, sizeof(pkt)));
		client[i] = v6_label(pkt);
		EXPECT_NE(0U, synack);
		EXPECT_EQ(synack, server);
		EXPECT_NE(0U, client[i]);
		/* No TIME_WAIT: the same 4-tuple may connect again. */
		ASSERT_EQ(0, setsockopt(cfd, SOL_SOCKET, SO_LINGER, &lin,
					sizeof(lin)));
		close(cfd);
		close(afd);
		close(cap);
	}
	/* Equal by chance once in 2^20 runs. */
	EXPECT_NE(client[0], client[1]);
}

/*
 * A retransmission timeout draws a new flow hash (TimeoutRehash, TCP's
 * TCPTimeoutRehash) and so a new label. lo drops everything meanwhile.
 */
TEST_F(v6, flowlabel_rehash_on_rto)
{
	const char *name = variant->proto == IPPROTO_TCP ? "TcpTimeoutRehash" :
							   "TimeoutRehash";
	long before = xtcp_proto_counter(variant->proto, name);
	__u16 sport = ntohs(self->laddr.sin6_port);
	struct sockaddr_in6 me;
	socklen_t alen = sizeof(me);
	__u32 first, again;
	__u8 pkt[512];
	int cap, cfd, afd;
	char c;

	ASSERT_LE(0, before);
	cap = v6_cap_open();
	ASSERT_LE(0, cap);
	cfd = v6_estab_caught(variant->proto, self->lfd, &self->laddr, cap,
			      &afd, pkt, sizeof(pkt));
	ASSERT_LE(0, cfd) TH_LOG("connection: %s", strerror(-cfd));
	first = v6_label(pkt);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&me, &alen));
	close(cap);

	ASSERT_EQ(0, system("tc qdisc add dev lo root netem loss 100%"));
	cap = v6_cap_open();
	ASSERT_LE(0, cap);
	ASSERT_EQ(1, send(cfd, "r", 1, 0));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto, name) >
				    before, XTCP_TIMEOUT(10000)));
	ASSERT_EQ(0, system("tc qdisc del dev lo root"));
	/* The next retransmission gets through, with the new label. */
	ASSERT_LT(0, v6_cap_seg(cap, variant->proto, ntohs(me.sin6_port),
				sport, true, pkt, sizeof(pkt)));
	again = v6_label(pkt);
	EXPECT_NE(0U, again);
	EXPECT_NE(first, again);
	EXPECT_EQ(1, recv(afd, &c, 1, 0));
	EXPECT_EQ('r', c);
	close(cfd);
	close(afd);
	close(cap);
}

/*
 * A label held exclusively lingers a few seconds after its socket is
 * gone (net/ipv6/ip6_flowlabel.c), and another socket cannot take it
 * meanwhile: each test and variant holds its own.
 */
#define V6_LABEL(proto, n) (0x12340U + (n) * 2 + ((proto) == IPPROTO_TCP))
#define V6_OTHER_LABEL 0x54321U

/* An exclusive flow label for @fd towards @dst (IPV6_FLOWLABEL_MGR). */
static int v6_hold_label(int fd, const struct in6_addr *dst, __u32 label)
{
	struct in6_flowlabel_req freq = {
		.flr_dst = *dst,
		.flr_label = htonl(label),
		.flr_action = IPV6_FL_A_GET,
		.flr_share = IPV6_FL_S_EXCL,
		.flr_flags = IPV6_FL_F_CREATE,
	};
	int on = 1;

	if (setsockopt(fd, SOL_IPV6, IPV6_FLOWLABEL_MGR, &freq, sizeof(freq)) ||
	    setsockopt(fd, SOL_IPV6, IPV6_FLOWINFO_SEND, &on, sizeof(on)))
		return -errno;
	return 0;
}

/* A socket bound to ::1 port @cport, holding @label. */
static int v6_labelled_socket(int proto, in_port_t cport, __u32 label)
{
	struct sockaddr_in6 me = {
		.sin6_family = AF_INET6,
		.sin6_addr = IN6ADDR_LOOPBACK_INIT,
		.sin6_port = cport,
	};
	int fd = socket(AF_INET6, SOCK_STREAM, proto);
	int err;

	if (fd < 0)
		return -errno;
	err = v6_hold_label(fd, &me.sin6_addr, label);
	if (!err && bind(fd, (struct sockaddr *)&me, sizeof(me)))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * IPV6_FLOWINFO_SEND: connect() sends sin6_flowinfo's label, which the
 * socket must hold; one it does not hold fails with EINVAL.
 */
TEST_F(v6, flowinfo_send)
{
	in_port_t cport = v6_cport(variant->proto, 1);
	__u32 label = V6_LABEL(variant->proto, 0);
	struct sockaddr_in6 to = self->laddr;
	__u8 pkt[512];
	int cap, cfd, afd;

	cap = v6_cap_open();
	ASSERT_LE(0, cap);
	cfd = v6_labelled_socket(variant->proto, cport, label);
	ASSERT_LE(0, cfd) TH_LOG("labelled socket: %s", strerror(-cfd));
	to.sin6_flowinfo = htonl(V6_OTHER_LABEL);
	EXPECT_EQ(-1, connect(cfd, (struct sockaddr *)&to, sizeof(to)));
	EXPECT_EQ(EINVAL, errno);
	to.sin6_flowinfo = htonl(label);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&to, sizeof(to)));
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_LT(0, v6_cap_seg(cap, variant->proto, ntohs(cport),
				ntohs(to.sin6_port), false, pkt, sizeof(pkt)));
	EXPECT_EQ(label, v6_label(pkt));
	ASSERT_EQ(1, send(cfd, "f", 1, 0));
	ASSERT_LT(0, v6_cap_seg(cap, variant->proto, ntohs(cport),
				ntohs(to.sin6_port), true, pkt, sizeof(pkt)));
	EXPECT_EQ(label, v6_label(pkt));
	close(cfd);
	close(afd);
	close(cap);
}

/*
 * A listener reflecting flow labels (IPV6_FL_F_REFLECT) answers with the
 * client's label, in its SYN-ACK and on the connection; a RST of no
 * socket carries the label of what it answers with
 * net.ipv6.flowlabel_reflect 2.
 */
TEST_F(v6, flowlabel_reflect)
{
	struct in6_flowlabel_req freq = {
		.flr_action = IPV6_FL_A_GET,
		.flr_flags = IPV6_FL_F_REFLECT,
	};
	in_port_t cport = v6_cport(variant->proto, 2);
	__u16 sport = ntohs(self->laddr.sin6_port);
	__u32 label = V6_LABEL(variant->proto, 1);
	struct sockaddr_in6 to = self->laddr;
	__u8 pkt[512];
	int cap, cfd, afd;

	ASSERT_EQ(0, xtcp_write_file("/proc/sys/net/ipv6/flowlabel_consistency",
				     "0"));
	ASSERT_EQ(0, setsockopt(self->lfd, SOL_IPV6, IPV6_FLOWLABEL_MGR, &freq,
				sizeof(freq)));
	cap = v6_cap_open();
	ASSERT_LE(0, cap);
	cfd = v6_labelled_socket(variant->proto, cport, label);
	ASSERT_LE(0, cfd) TH_LOG("labelled socket: %s", strerror(-cfd));
	to.sin6_flowinfo = htonl(label);
	ASSERT_EQ(0, connect(cfd, (struct sockaddr *)&to, sizeof(to)));
	afd = accept(self->lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	ASSERT_LT(0, v6_cap_seg(cap, variant->proto, sport, ntohs(cport),
				false, pkt, sizeof(pkt)));
	EXPECT_EQ(label, v6_label(pkt));
	ASSERT_EQ(1, send(afd, "r", 1, 0));
	ASSERT_LT(0, v6_cap_seg(cap, variant->proto, sport, ntohs(cport),
				true, pkt, sizeof(pkt)));
	EXPECT_EQ(label, v6_label(pkt));
	close(cfd);
	close(afd);

	/* Off again; and off already. */
	freq.flr_action = IPV6_FL_A_PUT;
	EXPECT_EQ(0, setsockopt(self->lfd, SOL_IPV6, IPV6_FLOWLABEL_MGR,
				&freq, sizeof(freq)));
	EXPECT_EQ(-1, setsockopt(self->lfd, SOL_IPV6, IPV6_FLOWLABEL_MGR,
				 &freq, sizeof(freq)));
	EXPECT_EQ(ESRCH, errno);

	/* A RST from a port without a listener. */
	ASSERT_EQ(0, xtcp_write_file("/proc/sys/net/ipv6/flowlabel_reflect",
				     "2"));
	close(self->lfd);
	self->lfd = -1;
	cfd = v6_labelled_socket(variant->proto, v6_cport(variant->proto, 3),
				 label + 8);
	ASSERT_LE(0, cfd);
	to.sin6_flowinfo = htonl(label + 8);
	EXPECT_EQ(-1, connect(cfd, (struct sockaddr *)&to, sizeof(to)));
	EXPECT_EQ(ECONNREFUSED, errno);
	ASSERT_LT(0, v6_cap_seg(cap, variant->proto, sport,
				ntohs(v6_cport(variant->proto, 3)), false, pkt,
				sizeof(pkt)));
	EXPECT_EQ(label + 8, v6_label(pkt));
	EXPECT_EQ(0, xtcp_write_file("/proc/sys/net/ipv6/flowlabel_reflect",
				     "0"));
	close(cfd);
	close(cap);
}

/*
 * ESTABLISHED: an unreachable is a soft error (SO_ERROR reads it, the
 * connection goes on); one quoting past snd_nxt is dropped and counted.
 */
TEST_F(v6, icmp6_estab_unreach_soft)
{
	long before = xtcp_proto_counter(variant->proto, "OutOfWindowIcmps");
	__u8 seg[512];
	int cap, cfd, afd;
	char c;

	ASSERT_LE(0, before);
	cap = v6_cap_open();
	ASSERT_LE(0, cap);
	cfd = v6_estab_caught(variant->proto, self->lfd, &self->laddr, cap,
			      &afd, seg, sizeof(seg));
	ASSERT_LE(0, cfd) TH_LOG("connection: %s", strerror(-cfd));

	/* The byte was acknowledged or is in flight: snd_nxt is seq + 1. */
	ASSERT_EQ(0, v6_send_icmp(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0,
				  seg, 100001));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       "OutOfWindowIcmps") ==
				    before + 1, 2000));
	EXPECT_EQ(0, v6_so_error(cfd));

	ASSERT_EQ(0, v6_send_icmp(ICMP6_DST_UNREACH, ICMP6_DST_UNREACH_ADDR, 0,
				  seg, 1));
	EXPECT_TRUE(xtcp_wait_until(v6_so_error(cfd) == EHOSTUNREACH, 2000));
	EXPECT_EQ(1, send(cfd, "y", 1, 0));
	EXPECT_EQ(1, recv(afd, &c, 1, 0));
	close(cfd);
	close(afd);
	close(cap);
}

/*
 * Packet Too Big: below the IPv6 minimum MTU or quoting past snd_nxt it
 * changes nothing; 1280 takes the MSS down to what 1280 bytes carry.
 */
TEST_F(v6, icmp6_pkt_too_big)
{
	int level = variant->proto == IPPROTO_TCP ? SOL_TCP : SOL_XTCP;
	long before = xtcp_proto_counter(variant->proto, "OutOfWindowIcmps");
	struct sockaddr_in6 to = { .sin6_family = AF_INET6 };
	socklen_t alen = sizeof(to);
	int cap, cfd, afd, mss, lfd;
	char addr[64], cmd[128];
	__u8 seg[512];

	/* The path MTU learned stays with the route: an address of its own
	 * for each protocol, ::1 left alone.
	 */
	snprintf(addr, sizeof(addr), "2001:db8:1::%x", variant->proto);
	snprintf(cmd, sizeof(cmd), "ip -6 addr replace %s/128 dev lo nodad",
		 addr);
	ASSERT_EQ(0, system(cmd));
	ASSERT_EQ(1, inet_pton(AF_INET6, addr, &to.sin6_addr));
	lfd = socket(AF_INET6, SOCK_STREAM, variant->proto);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, bind(lfd, (struct sockaddr *)&to, sizeof(to)));
	ASSERT_EQ(0, listen(lfd, 1));
	ASSERT_EQ(0, getsockname(lfd, (struct sockaddr *)&to, &alen));

	ASSERT_LE(0, before);
	cap = v6_cap_open();
	ASSERT_LE(0, cap);
	cfd = v6_estab_caught(variant->proto, lfd, &to, cap, &afd, seg,
			      sizeof(seg));
	ASSERT_LE(0, cfd) TH_LOG("connection: %s", strerror(-cfd));
	mss = xtcp_get_int(cfd, level, TCP_MAXSEG);
	ASSERT_LT(1280, mss);

	ASSERT_EQ(0, v6_send_icmp(ICMP6_PACKET_TOO_BIG, 0, 1000, seg, 1));
	ASSERT_EQ(0, v6_send_icmp(ICMP6_PACKET_TOO_BIG, 0, 1280, seg, 100001));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       "OutOfWindowIcmps") ==
				    before + 1, 2000));
	EXPECT_EQ(mss, xtcp_get_int(cfd, level, TCP_MAXSEG));

	ASSERT_EQ(0, v6_send_icmp(ICMP6_PACKET_TOO_BIG, 0, 1280, seg, 1));
	EXPECT_TRUE(xtcp_wait_until(xtcp_get_int(cfd, level, TCP_MAXSEG) <=
				    1280 - 40 - 20, 2000));
	EXPECT_LE(1280 - 40 - 20 - 40, xtcp_get_int(cfd, level, TCP_MAXSEG));
	EXPECT_EQ(0, v6_so_error(cfd));
	close(cfd);
	close(afd);
	close(lfd);
	close(cap);
}

/*
 * Dual stack: AF_INET6 sockets with IPv4 peers, as IPv4-mapped addresses
 * (RFC 4291 section 2.5.5.2, RFC 3493 section 3.7), over 127.0.0.1.
 */
FIXTURE(dual) {
	int fds[8];
	int nfds;
};

FIXTURE_VARIANT(dual) {
	int proto;
};

FIXTURE_VARIANT_ADD(dual, tcp6) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(dual, xtcp6) {
	.proto = IPPROTO_XTCP,
};

FIXTURE_SETUP(dual)
{
	ASSERT_EQ(0, system("ip link set lo up"));
	self->nfds = 0;
}

FIXTURE_TEARDOWN(dual)
{
	while (self->nfds)
		close(self->fds[--self->nfds]);
}

/* A socket of @family, IPv6-only or not, closed by the teardown. */
static int dual_socket(struct __test_metadata *_metadata,
		       FIXTURE_DATA(dual) *self, int proto, int family,
		       int v6only)
{
	int fd = socket(family, SOCK_STREAM, proto);

	ASSERT_LE(0, fd) TH_LOG("socket: %s", strerror(errno));
	ASSERT_GT((int)ARRAY_SIZE(self->fds), self->nfds);
	self->fds[self->nfds++] = fd;
	if (family == AF_INET6)
		ASSERT_EQ(0, setsockopt(fd, SOL_IPV6, IPV6_V6ONLY, &v6only,
					sizeof(v6only)));
	return fd;
}

/* A socket address of @family for the text address @addr and @port. */
static socklen_t dual_addr(struct sockaddr_storage *ss, int family,
			   const char *addr, in_port_t port)
{
	memset(ss, 0, sizeof(*ss));
	if (family == AF_INET) {
		struct sockaddr_in *sin = (struct sockaddr_in *)ss;

		sin->sin_family = AF_INET;
		sin->sin_port = port;
		inet_pton(AF_INET, addr, &sin->sin_addr);
		return sizeof(*sin);
	}
	struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)ss;

	sin6->sin6_family = AF_INET6;
	sin6->sin6_port = port;
	inet_pton(AF_INET6, addr, &sin6->sin6_addr);
	return sizeof(*sin6);
}

/* bind() to @addr and @port: 0 or -errno. */
static int dual_bind(int fd, int family, const char *addr, in_port_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = dual_addr(&ss, family, addr, port);

	return bind(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

/* connect() to @addr and @port: 0 or -errno. */
static int dual_connect(int fd, int family, const char *addr, in_port_t port)
{
	struct sockaddr_storage ss;
	socklen_t len = dual_addr(&ss, family, addr, port);

	return connect(fd, (struct sockaddr *)&ss, len) ? -errno : 0;
}

/* The local port of a bound socket. */
static in_port_t dual_port(int fd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	if (getsockname(fd, (struct sockaddr *)&ss, &len))
		return 0;
	if (ss.ss_family == AF_INET)
		return ((struct sockaddr_in *)&ss)->sin_port;
	return ((struct sockaddr_in6 *)&ss)->sin6_port;
}

/* Whether @sa is AF_INET6 ::ffff:127.0.0.1 at @port. */
static bool dual_is_mapped_lo(const struct sockaddr_in6 *sa, in_port_t port)
{
	struct in6_addr lo;

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &lo);
	return sa->sin6_family == AF_INET6 && sa->sin6_port == port &&
	       !memcmp(&sa->sin6_addr, &lo, sizeof(lo));
}

/* Whether @sa is AF_INET 127.0.0.1 at @port. */
static bool dual_is_lo(const struct sockaddr_in *sa, in_port_t port)
{
	return sa->sin_family == AF_INET && sa->sin_port == port &&
	       sa->sin_addr.s_addr == htonl(INADDR_LOOPBACK);
}

/* Data both ways, then an orderly close with @cfd closing first. */
static void dual_exchange(struct __test_metadata *_metadata, int cfd, int afd)
{
	static char out[64 * 1024], in[64 * 1024];
	size_t i;
	char c;

	for (i = 0; i < sizeof(out); i++)
		out[i] = (char)(i * 13 + i / 253);
	ASSERT_EQ((ssize_t)sizeof(out), send(cfd, out, sizeof(out), 0));
	ASSERT_EQ((ssize_t)sizeof(in), recv(afd, in, sizeof(in), MSG_WAITALL));
	EXPECT_EQ(0, memcmp(in, out, sizeof(in)));
	ASSERT_EQ(5, send(afd, "hello", 5, 0));
	ASSERT_EQ(5, recv(cfd, in, 5, MSG_WAITALL));
	EXPECT_EQ(0, memcmp(in, "hello", 5));
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	EXPECT_EQ(0, recv(afd, &c, 1, 0));
	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	EXPECT_EQ(0, recv(cfd, &c, 1, 0));
}

/*
 * An AF_INET6 listener on @laddr takes an AF_INET client: the names
 * reported on its side are IPv4-mapped, on the client's IPv4.
 */
static void dual_v4_client(struct __test_metadata *_metadata,
			   FIXTURE_DATA(dual) *self, int proto,
			   const char *laddr)
{
	struct sockaddr_in6 peer6, name6;
	struct sockaddr_in name4, peer4;
	int lfd, cfd, afd;
	in_port_t lport;
	socklen_t len;

	lfd = dual_socket(_metadata, self, proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, laddr, 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, proto, AF_INET, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET, "127.0.0.1", lport));

	len = sizeof(peer6);
	afd = accept(lfd, (struct sockaddr *)&peer6, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	self->fds[self->nfds++] = afd;
	len = sizeof(name4);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&name4, &len));
	len = sizeof(peer4);
	ASSERT_EQ(0, getpeername(cfd, (struct sockaddr *)&peer4, &len));
	EXPECT_TRUE(dual_is_lo(&peer4, lport));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, name4.sin_port));
	len = sizeof(peer6);
	ASSERT_EQ(0, getpeername(afd, (struct sockaddr *)&peer6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, name4.sin_port));
	len = sizeof(name6);
	ASSERT_EQ(0, getsockname(afd, (struct sockaddr *)&name6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&name6, lport));
	/* The IPv4 route's MSS: loopback's 64 KiB MTU. */
	EXPECT_LT(16384, v6_sockopt_int(afd, SOL_TCP, TCP_MAXSEG));

	dual_exchange(_metadata, cfd, afd);
}

/* An AF_INET6 listener on :: takes IPv4 clients (without IPV6_V6ONLY). */
TEST_F(dual, v4_client_wildcard_listener)
{
	dual_v4_client(_metadata, self, variant->proto, "::");
}

/* So does one on the IPv4-mapped address. */
TEST_F(dual, v4_client_mapped_listener)
{
	dual_v4_client(_metadata, self, variant->proto, "::ffff:127.0.0.1");
}

/* With IPV6_V6ONLY the IPv4 SYN finds no listener: a RST. */
TEST_F(dual, v6only_listener_refuses_v4)
{
	int lfd, cfd, fd6;
	in_port_t lport;

	lfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 1);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, "::", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	EXPECT_EQ(-ECONNREFUSED, dual_connect(cfd, AF_INET, "127.0.0.1",
					      lport));
	/* IPv6 clients still reach it. */
	fd6 = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	EXPECT_EQ(0, dual_connect(fd6, AF_INET6, "::1", lport));
}

/*
 * connect() of an AF_INET6 socket to an IPv4-mapped address: an IPv4
 * connection through its life: names, data, close, TIME_WAIT.
 */
TEST_F(dual, mapped_connect)
{
	struct sockaddr_in6 name6, peer6;
	struct sockaddr_in peer4;
	int lfd, cfd, afd, fd;
	in_port_t lport, cport;
	socklen_t len;

	lfd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET, "127.0.0.1", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET6, "::ffff:127.0.0.1", lport));
	len = sizeof(peer4);
	afd = accept(lfd, (struct sockaddr *)&peer4, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	self->fds[self->nfds++] = afd;

	len = sizeof(name6);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&name6, &len));
	cport = name6.sin6_port;
	EXPECT_NE(0, cport);
	EXPECT_TRUE(dual_is_mapped_lo(&name6, cport));
	len = sizeof(peer6);
	ASSERT_EQ(0, getpeername(cfd, (struct sockaddr *)&peer6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, lport));
	EXPECT_TRUE(dual_is_lo(&peer4, cport));
	EXPECT_LT(16384, v6_sockopt_int(cfd, SOL_TCP, TCP_MAXSEG));

	dual_exchange(_metadata, cfd, afd);

	/* The client closed first: its port stays in TIME_WAIT, for IPv4
	 * and IPv4-mapped binds alike, and an IPv6-only :: may take it.
	 */
	close(cfd);
	self->fds[1] = -1;
	fd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	EXPECT_EQ(-EADDRINUSE, dual_bind(fd, AF_INET, "127.0.0.1", cport));
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	EXPECT_EQ(-EADDRINUSE, dual_bind(fd, AF_INET6, "::ffff:127.0.0.1",
					 cport));
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	EXPECT_EQ(-EADDRINUSE, dual_bind(fd, AF_INET6, "::", cport));
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 1);
	EXPECT_EQ(0, dual_bind(fd, AF_INET6, "::", cport));
}

/* Both ends AF_INET6, the connection IPv4. */
TEST_F(dual, mapped_connect_to_v6_listener)
{
	struct sockaddr_in6 peer6, name6;
	int lfd, cfd, afd;
	in_port_t lport;
	socklen_t len;

	lfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, "::", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lport = dual_port(lfd);
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET6, "::ffff:127.0.0.1", lport));
	len = sizeof(peer6);
	afd = accept(lfd, (struct sockaddr *)&peer6, &len);
	ASSERT_LE(0, afd) TH_LOG("accept: %s", strerror(errno));
	self->fds[self->nfds++] = afd;
	len = sizeof(name6);
	ASSERT_EQ(0, getsockname(cfd, (struct sockaddr *)&name6, &len));
	EXPECT_TRUE(dual_is_mapped_lo(&peer6, name6.sin6_port));
	dual_exchange(_metadata, cfd, afd);
}

/* An IPv6-only socket cannot reach an IPv4-mapped address. */
TEST_F(dual, v6only_mapped_connect_fails)
{
	int fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 1);

	EXPECT_EQ(-ENETUNREACH, dual_connect(fd, AF_INET6, "::ffff:127.0.0.1",
					     htons(9)));
	/* So cannot one bound to a native IPv6 address. */
	fd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(fd, AF_INET6, "::1", 0));
	EXPECT_EQ(-ENETUNREACH, dual_connect(fd, AF_INET6, "::ffff:127.0.0.1",
					     htons(9)));
}

/*
 * bind() of a second socket to the port of a first, across the families,
 * with and without IPV6_V6ONLY; where both binds succeed, both sockets
 * listen. The expected results are Linux TCP's, which the tcp6 variant
 * checks.
 */
static const struct dual_bind_case {
	int family1, v6only1;
	const char *addr1;
	int family2, v6only2;
	const char *addr2;
	int err;
} dual_bind_cases[] = {
	{ AF_INET6, 0, "::", AF_INET, 0, "0.0.0.0", -EADDRINUSE },
	{ AF_INET6, 0, "::", AF_INET, 0, "127.0.0.1", -EADDRINUSE },
	{ AF_INET6, 1, "::", AF_INET, 0, "0.0.0.0", 0 },
	{ AF_INET6, 1, "::", AF_INET, 0, "127.0.0.1", 0 },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 0, "::", -EADDRINUSE },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 1, "::", 0 },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 0, "::", -EADDRINUSE },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 1, "::", 0 },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 0, "::ffff:127.0.0.1",
	  -EADDRINUSE },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 0, "::ffff:127.0.0.1",
	  -EADDRINUSE },
	{ AF_INET, 0, "127.0.0.1", AF_INET6, 0, "::1", 0 },
	{ AF_INET, 0, "0.0.0.0", AF_INET6, 0, "::1", 0 },
	{ AF_INET6, 0, "::1", AF_INET, 0, "0.0.0.0", 0 },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET, 0, "127.0.0.1",
	  -EADDRINUSE },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET, 0, "127.0.0.2", 0 },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET6, 0, "::",
	  -EADDRINUSE },
	{ AF_INET6, 0, "::ffff:127.0.0.1", AF_INET6, 1, "::", 0 },
	{ AF_INET6, 1, "::", AF_INET6, 0, "::ffff:127.0.0.1", 0 },
	{ AF_INET6, 1, "::", AF_INET6, 0, "::1", -EADDRINUSE },
	{ AF_INET6, 0, "::1", AF_INET6, 0, "::ffff:127.0.0.1", 0 },
};

TEST_F(dual, bind_conflicts)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(dual_bind_cases); i++) {
		const struct dual_bind_case *c = &dual_bind_cases[i];
		int fd1, fd2, err;
		in_port_t port;

		fd1 = dual_socket(_metadata, self, variant->proto, c->family1,
				  c->v6only1);
		fd2 = dual_socket(_metadata, self, variant->proto, c->family2,
				  c->v6only2);
		ASSERT_EQ(0, dual_bind(fd1, c->family1, c->addr1, 0));
		port = dual_port(fd1);
		err = dual_bind(fd2, c->family2, c->addr2, port);
		EXPECT_EQ(c->err, err)
			TH_LOG("case %zu: %s then %s%s", i, c->addr1, c->addr2,
			       c->v6only2 ? " (IPV6_V6ONLY)" : "");
		if (!err) {
			EXPECT_EQ(0, listen(fd1, 1)) TH_LOG("case %zu", i);
			EXPECT_EQ(0, listen(fd2, 1)) TH_LOG("case %zu", i);
		}
		close(self->fds[--self->nfds]);
		close(self->fds[--self->nfds]);
	}
}

/*
 * The lines of a connection of an AF_INET6 socket with an IPv4 peer: in
 * the IPv6 file with the IPv4-mapped addresses, its TIME_WAIT entry too,
 * and the AF_INET client's in the IPv4 file, as TCP's.
 */
TEST_F(dual, mapped_in_proc6)
{
	const char *proc4 = variant->proto == IPPROTO_TCP ? "/proc/net/tcp" :
							    "/proc/net/xtcp";
	const char *proc6 = v6_proc_path(variant->proto);
	struct v6_proc_entry e;
	char hdr[512], lo[33];
	int lfd, cfd, afd;
	unsigned int lp, cp;
	struct in6_addr a;
	char c;

	inet_pton(AF_INET6, "::ffff:127.0.0.1", &a);
	v6_proc_addr(&a, lo, sizeof(lo));
	lfd = dual_socket(_metadata, self, variant->proto, AF_INET6, 0);
	ASSERT_EQ(0, dual_bind(lfd, AF_INET6, "::", 0));
	ASSERT_EQ(0, listen(lfd, 4));
	lp = ntohs(dual_port(lfd));
	cfd = dual_socket(_metadata, self, variant->proto, AF_INET, 0);
	ASSERT_EQ(0, dual_connect(cfd, AF_INET, "127.0.0.1", htons(lp)));
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);
	cp = ntohs(dual_port(cfd));

	ASSERT_EQ(1, v6_proc_find(proc6, lp, cp, hdr, sizeof(hdr), &e));
	EXPECT_EQ((unsigned int)TCP_ESTABLISHED, e.state);
	EXPECT_STREQ(lo, e.laddr);
	EXPECT_STREQ(lo, e.raddr);
	EXPECT_EQ(v6_ino(afd), e.inode);
	EXPECT_EQ(0, v6_proc_find(proc4, lp, cp, hdr, sizeof(hdr), &e));
	EXPECT_EQ(1, v6_proc_find(proc4, cp, lp, hdr, sizeof(hdr), &e));
	EXPECT_EQ(v6_ino(cfd), e.inode);
	EXPECT_EQ(0, v6_proc_find(proc6, cp, lp, hdr, sizeof(hdr), &e));

	/* The accepted socket closes first: its TIME_WAIT entry. */
	ASSERT_EQ(0, shutdown(afd, SHUT_WR));
	ASSERT_EQ(0, recv(cfd, &c, 1, 0));
	ASSERT_EQ(0, shutdown(cfd, SHUT_WR));
	ASSERT_EQ(0, recv(afd, &c, 1, 0));
	close(afd);
	EXPECT_TRUE(xtcp_wait_until(v6_proc_find(proc6, lp, cp, hdr,
						 sizeof(hdr), &e) == 1 &&
				    e.state == TCP_TIME_WAIT, 2000));
	EXPECT_STREQ(lo, e.laddr);
	EXPECT_EQ(0, v6_proc_find(proc4, lp, cp, hdr, sizeof(hdr), &e));
}

/*
 * IPv6 header fields a socket option sets, seen on the wire by a scripted
 * peer (xtcp_peer.h) in IPv6 mode: IPV6_TCLASS (RFC 3542 6.5) and
 * IPV6_MINHOPCOUNT (RFC 5082, GTSM).
 */
#define P6_KADDR	"fd00:9::1"
#define P6_PADDR	"fd00:9::2"
#define P6_ISN		700000
#define P6_CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)

FIXTURE(peer6) {
	struct xp_peer p;
};

FIXTURE_VARIANT(peer6) {
	int proto;
	const char *min_ttl_drop;	/* the counter of IPV6_MINHOPCOUNT */
};

FIXTURE_VARIANT_ADD(peer6, tcp6) {
	.proto = IPPROTO_TCP,
	.min_ttl_drop = "TCPMinTTLDrop",
};

FIXTURE_VARIANT_ADD(peer6, xtcp6) {
	.proto = IPPROTO_XTCP,
	.min_ttl_drop = "MinTTLDrop",
};

FIXTURE_SETUP(peer6)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	ASSERT_EQ(0, xtcp_short_retries(variant->proto, 3));
	err = xp_open(&self->p, variant->proto, P6_KADDR, P6_PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(peer6)
{
	xp_close(&self->p);
}

/*
 * Send @msg on @fd and return the traffic class of the data segment the
 * peer gets, which it then acknowledges; -errno on failure.
 */
static int p6_data_tclass(struct xp_peer *p, struct xp_conn *c, int fd,
			  const char *msg)
{
	ssize_t len = strlen(msg);
	struct xp_seg r;
	int err;

	if (send(fd, msg, len, 0) != len)
		return -EIO;
	err = xp_conn_expect_data(p, c, &r, 3000);
	if (err)
		return err;
	if (r.len != (size_t)len || memcmp(r.data, msg, len))
		return -EPROTO;
	err = xp_conn_ack_to(p, c, r.seq + r.len);
	return err ?: r.tos;
}

/* A listener on the peer's kernel side, @port, with @tclass (-1: none). */
static int p6_listener(const struct xp_peer *p, __u16 port, int tclass)
{
	struct sockaddr_storage ss;
	socklen_t len = xp_sockaddr(p, false, port, &ss);
	int fd, err;

	fd = xp_socket(p, SOCK_STREAM | SOCK_NONBLOCK);
	if (fd < 0)
		return -errno;
	err = tclass < 0 ? 0 : xtcp_set_int(fd, SOL_IPV6, IPV6_TCLASS, tclass);
	if (!err && (bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 4)))
		err = -errno;
	if (err) {
		close(fd);
		return err;
	}
	return fd;
}

/*
 * IPV6_TCLASS: getsockopt() returns what was set, each data segment
 * carries the class set when it leaves, and -1 restores the default, 0.
 */
TEST_F(peer6, tclass_data)
{
	struct xp_conn c;
	int fd;

	fd = xp_socket(&self->p, SOCK_STREAM);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, v6_sockopt_int(fd, SOL_IPV6, IPV6_TCLASS));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_IPV6, IPV6_TCLASS, 0xb8));
	EXPECT_EQ(0xb8, v6_sockopt_int(fd, SOL_IPV6, IPV6_TCLASS));
	ASSERT_EQ(0, xp_conn_connect(&self->p, &c, fd, 9300, P6_ISN, 65535,
				     false));
	EXPECT_EQ(0xb8, p6_data_tclass(&self->p, &c, fd, "expedited"));

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_IPV6, IPV6_TCLASS, 0x20));
	EXPECT_EQ(0x20, v6_sockopt_int(fd, SOL_IPV6, IPV6_TCLASS));
	EXPECT_EQ(0x20, p6_data_tclass(&self->p, &c, fd, "lower effort"));

	ASSERT_EQ(0, xtcp_set_int(fd, SOL_IPV6, IPV6_TCLASS, -1));
	EXPECT_EQ(0, v6_sockopt_int(fd, SOL_IPV6, IPV6_TCLASS));
	EXPECT_EQ(0, p6_data_tclass(&self->p, &c, fd, "default"));
	EXPECT_EQ(-EINVAL, xtcp_set_int(fd, SOL_IPV6, IPV6_TCLASS, 256));
	close(fd);
}

/* The syncookies knob of @proto. */
static const char *p6_syncookies_knob(int proto)
{
	return proto == IPPROTO_TCP ? "/proc/sys/net/ipv4/tcp_syncookies" :
				      "/proc/sys/net/xtcp/syncookies";
}

/*
 * A listener's IPV6_TCLASS: its SYN-ACKs carry it, with a cookie too; an
 * accepted socket inherits it: getsockopt() says so and its data
 * segments carry it.
 */
TEST_F(peer6, tclass_inherited)
{
	struct xp_conn c = { 0 };
	struct xp_seg s, sa;
	int lfd, afd;

	lfd = p6_listener(&self->p, 9301, 0x48);
	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(-lfd));
	c.kport = 9301;
	c.pport = 46001;
	c.p_nxt = P6_ISN;
	xp_conn_seg(&self->p, &c, &s, XP_SYN);
	s.mss = 1440;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt++;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &sa, P6_CTL,
					XP_SYN | XP_ACK, c.p_nxt, 3000));
	TH_LOG("SYN-ACK: traffic class 0x%02x, %s", sa.tos, XP_SEG_STR(&sa));
	EXPECT_EQ(0x48, sa.tos);
	c.k_nxt = sa.seq + 1;
	xp_conn_seg(&self->p, &c, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	afd = accept(lfd, NULL, NULL);
	ASSERT_LE(0, afd);

	EXPECT_EQ(0x48, v6_sockopt_int(afd, SOL_IPV6, IPV6_TCLASS));
	EXPECT_EQ(0x48, p6_data_tclass(&self->p, &c, afd, "inherited"));

	/* A SYN-ACK with a cookie is sent without an entry: the same. */
	ASSERT_EQ(0, xtcp_write_file(p6_syncookies_knob(variant->proto), "2"));
	xp_seg_init(&self->p, &s);
	s.sport = 46002;
	s.dport = 9301;
	s.seq = P6_ISN;
	s.flags = XP_SYN;
	s.mss = 1440;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_expect(&self->p, &sa, P6_CTL, XP_SYN | XP_ACK, 3000));
	EXPECT_EQ(s.seq + 1, sa.ack);
	EXPECT_EQ(0x48, sa.tos);
	close(afd);
	close(lfd);
}

/*
 * IPV6_MINHOPCOUNT: a segment whose hop limit is below the socket's
 * minimum is dropped and counted (TCP's TCPMinTTLDrop, xtcp's
 * MinTTLDrop): data is neither acknowledged nor delivered, a RST resets
 * nothing, a SYN to a listener is not answered. At the minimum, all goes
 * through.
 */
TEST_F(peer6, min_hopcount)
{
	struct xp_conn c;
	struct xp_seg s, r;
	long drops;
	char buf[8];
	int fd, lfd;

	drops = xtcp_proto_counter(variant->proto, variant->min_ttl_drop);
	ASSERT_LE(0, drops);
	fd = xp_socket(&self->p, SOCK_STREAM);
	ASSERT_LE(0, fd);
	EXPECT_EQ(0, v6_sockopt_int(fd, SOL_IPV6, IPV6_MINHOPCOUNT));
	ASSERT_EQ(0, xp_conn_connect(&self->p, &c, fd, 9302, P6_ISN, 65535,
				     false));
	ASSERT_EQ(0, xtcp_set_int(fd, SOL_IPV6, IPV6_MINHOPCOUNT, 255));
	EXPECT_EQ(255, v6_sockopt_int(fd, SOL_IPV6, IPV6_MINHOPCOUNT));

	/* One hop too far: data and then an exact RST. */
	xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_PSH);
	s.data = "far";
	s.len = 3;
	s.ttl = 254;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ETIMEDOUT, xp_conn_expect(&self->p, &c, &r, 0, 0, 300))
		TH_LOG("answered: %s", XP_SEG_STR(&r));
	EXPECT_EQ(-1, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(EAGAIN, errno);
	xp_conn_seg(&self->p, &c, &s, XP_RST);
	s.ttl = 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_TRUE(xtcp_wait_until(xtcp_proto_counter(variant->proto,
						       variant->min_ttl_drop) ==
				    drops + 2, 1000));
	EXPECT_EQ(0, v6_sockopt_int(fd, SOL_SOCKET, SO_ERROR));

	/* The data again, from no farther than allowed. */
	xp_conn_seg(&self->p, &c, &s, XP_ACK | XP_PSH);
	s.data = "far";
	s.len = 3;
	s.ttl = 255;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	c.p_nxt += 3;
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &c, &r, P6_CTL, XP_ACK,
					c.p_nxt, 3000));
	ASSERT_TRUE(xtcp_wait_fd(fd, POLLIN, 3000) & POLLIN);
	EXPECT_EQ(3, recv(fd, buf, sizeof(buf), MSG_DONTWAIT));
	EXPECT_EQ(0, memcmp(buf, "far", 3));
	close(fd);

	/* A listener: a SYN from too far is not answered. */
	lfd = p6_listener(&self->p, 9303, -1);
	ASSERT_LE(0, lfd);
	ASSERT_EQ(0, xtcp_set_int(lfd, SOL_IPV6, IPV6_MINHOPCOUNT, 200));
	xp_seg_init(&self->p, &s);
	s.sport = 46003;
	s.dport = 9303;
	s.seq = P6_ISN;
	s.flags = XP_SYN;
	s.mss = 1440;
	s.ttl = 199;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	EXPECT_EQ(-ETIMEDOUT, xp_expect(&self->p, &r, XP_SYN, XP_SYN, 300))
		TH_LOG("answered: %s", XP_SEG_STR(&r));
	EXPECT_EQ(drops + 3, xtcp_proto_counter(variant->proto,
						variant->min_ttl_drop));
	s.ttl = 200;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_expect(&self->p, &r, P6_CTL, XP_SYN | XP_ACK, 3000));
	EXPECT_EQ(P6_ISN + 1U, r.ack);
	EXPECT_EQ(drops + 3, xtcp_proto_counter(variant->proto,
						variant->min_ttl_drop));
	close(lfd);
}

TEST_HARNESS_MAIN
