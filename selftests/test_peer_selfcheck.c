// SPDX-License-Identifier: GPL-2.0
/*
 * Checks of the scripted peer (xtcp_peer.h) against Linux TCP, the oracle:
 * if the peer builds, parses and checksums TCP segments the way the kernel
 * does, the same code speaking protocol 253 can be trusted with xtcp.
 * Protocol 253 itself is checked through a raw socket, with a checksum
 * written independently of the library's.
 *
 * Needs root (tun device, sysctls); each test makes its own network
 * namespace.
 */

#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_peer.h"
#include "xtcp_test.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define SYNACK_RETRIES	"/proc/sys/net/ipv4/tcp_synack_retries"
#define PROTO_253	253

/* A listening TCP socket on KADDR:@port; -errno on failure. */
static int tcp_listener(__u16 port)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, port);
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sin, sizeof(sin)) || listen(fd, 8)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * Reference checksum, written apart from the library's: pseudo-header and
 * segment copied into one buffer, summed as 16-bit words in 32 bits.
 */
static __u16 ref_csum(const char *src, const char *dst, int proto,
		      const __u8 *seg, size_t len)
{
	__u8 buf[12 + 2048] = { 0 };
	__u32 sum = 0;
	size_t i;

	inet_pton(AF_INET, src, buf);
	inet_pton(AF_INET, dst, buf + 4);
	buf[9] = proto;
	buf[10] = len >> 8;
	buf[11] = len & 0xff;
	memcpy(buf + 12, seg, len);
	for (i = 0; i < 12 + len; i += 2)
		sum += buf[i] << 8 | buf[i + 1];
	sum = (sum >> 16) + (sum & 0xffff);
	sum += sum >> 16;
	return ~sum & 0xffff;
}

FIXTURE(tcp) {
	struct xp_peer p;
};

FIXTURE_SETUP(tcp)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	err = xp_open(&self->p, IPPROTO_TCP, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
}

FIXTURE_TEARDOWN(tcp)
{
	xp_close(&self->p);
}

/* RFC 9293 3.10.7.1: a SYN to a closed port gets <SEQ=0><ACK=SEG.SEQ+1>. */
TEST_F(tcp, closed_port_rst)
{
	struct xp_seg s, r;

	xp_seg_init(&self->p, &s);
	s.sport = 40001;
	s.dport = 9;
	s.seq = 0x12345678;
	s.flags = XP_SYN;
	s.mss = 1460;
	ASSERT_EQ(0, xp_send(&self->p, &s));

	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(XP_RST | XP_ACK, r.flags);
	EXPECT_EQ(0U, r.seq);
	EXPECT_EQ(s.seq + 1, r.ack);
	EXPECT_EQ(s.dport, r.sport);
	EXPECT_EQ(s.sport, r.dport);
	EXPECT_EQ(self->p.kaddr.s_addr, r.saddr.s_addr);
	EXPECT_EQ(self->p.paddr.s_addr, r.daddr.s_addr);
	EXPECT_EQ(5, r.doff);
	EXPECT_EQ(0U, r.len);
	EXPECT_EQ(0, r.window);
	EXPECT_TRUE(r.df);
}

/* Passive open with MSS and timestamps, data in, the kernel's ACK out. */
TEST_F(tcp, passive_open_and_data)
{
	struct sockaddr_in peer;
	socklen_t plen = sizeof(peer);
	struct xp_seg s, sa, r;
	__u32 isn = 3000000000u;
	int lfd, cfd, n, err;
	char buf[16];

	lfd = tcp_listener(8081);
	ASSERT_LE(0, lfd) TH_LOG("listener: %s", strerror(-lfd));

	xp_seg_init(&self->p, &s);
	s.sport = 40002;
	s.dport = 8081;
	s.seq = isn;
	s.flags = XP_SYN;
	s.mss = 1400;
	s.sack_perm = true;
	s.ts = true;
	s.tsval = 777;
	s.wscale = 7;
	TH_LOG("send %s", XP_SEG_STR(&s));
	ASSERT_EQ(0, xp_send(&self->p, &s));

	err = xp_expect(&self->p, &sa, XP_SYN | XP_ACK | XP_RST | XP_FIN,
			XP_SYN | XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no SYN-ACK (%d), last other: %s", err,
				 self->p.last_skipped);
	TH_LOG("got %s", XP_SEG_STR(&sa));
	EXPECT_TRUE(sa.csum_ok);
	EXPECT_EQ(isn + 1, sa.ack);
	EXPECT_EQ(8081, sa.sport);
	EXPECT_EQ(40002, sa.dport);
	EXPECT_EQ(1460, sa.mss);	/* tun MTU 1500 - 40 */
	ASSERT_TRUE(sa.ts);
	EXPECT_EQ(777U, sa.tsecr);
	EXPECT_TRUE(sa.sack_perm);
	EXPECT_LE(0, sa.wscale);
	EXPECT_GE(14, sa.wscale);
	EXPECT_EQ(0U, sa.len);

	/* Third segment of the handshake, then five bytes. */
	xp_seg_reply(&sa, &s);
	s.tsval = 778;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	s.flags = XP_ACK | XP_PSH;
	s.data = "hello";
	s.len = 5;
	TH_LOG("send %s", XP_SEG_STR(&s));
	ASSERT_EQ(0, xp_send(&self->p, &s));

	/* The ACK of the data (window updates may come first). */
	do {
		err = xp_expect(&self->p, &r, XP_SYN | XP_RST | XP_FIN | XP_ACK,
				XP_ACK, 3000);
		ASSERT_EQ(0, err) TH_LOG("no ACK of the data (%d)", err);
		TH_LOG("got %s", XP_SEG_STR(&r));
		EXPECT_TRUE(r.csum_ok);
		EXPECT_EQ(0U, r.len);
		EXPECT_EQ(sa.seq + 1, r.seq);
	} while (r.ack != isn + 6 && r.ack == isn + 1);
	EXPECT_EQ(isn + 6, r.ack);
	ASSERT_TRUE(r.ts);
	EXPECT_EQ(778U, r.tsecr);

	ASSERT_TRUE(xtcp_wait_fd(lfd, POLLIN, 3000) & POLLIN);
	cfd = accept(lfd, (struct sockaddr *)&peer, &plen);
	ASSERT_LE(0, cfd) TH_LOG("accept: %s", strerror(errno));
	EXPECT_EQ(self->p.paddr.s_addr, peer.sin_addr.s_addr);
	EXPECT_EQ(40002, ntohs(peer.sin_port));
	ASSERT_TRUE(xtcp_wait_fd(cfd, POLLIN, 3000) & POLLIN);
	n = recv(cfd, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ(5, n);
	EXPECT_EQ(0, memcmp(buf, "hello", 5));
	close(cfd);
	close(lfd);
}

/* Active open by the kernel: parse its SYN, answer, read its data. */
TEST_F(tcp, active_open_and_data)
{
	struct sockaddr_in sin = xtcp_sin(PADDR, 8084);
	struct xp_seg syn, s, r;
	__u32 isn = 0xfffffff0u;	/* wraps during the test */
	int fd, err, soerr;
	socklen_t len = sizeof(soerr);

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	ASSERT_LE(0, fd);
	ASSERT_EQ(-1, connect(fd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(EINPROGRESS, errno);

	err = xp_expect(&self->p, &syn, XP_SYN | XP_ACK | XP_RST | XP_FIN,
			XP_SYN, 3000);
	ASSERT_EQ(0, err) TH_LOG("no SYN (%d)", err);
	TH_LOG("got %s", XP_SEG_STR(&syn));
	EXPECT_TRUE(syn.csum_ok);
	EXPECT_EQ(self->p.kaddr.s_addr, syn.saddr.s_addr);
	EXPECT_EQ(8084, syn.dport);
	EXPECT_EQ(1460, syn.mss);
	EXPECT_TRUE(syn.ts);
	EXPECT_EQ(0U, syn.tsecr);
	EXPECT_TRUE(syn.sack_perm);
	EXPECT_LE(0, syn.wscale);
	EXPECT_EQ(0U, syn.len);

	xp_seg_reply(&syn, &s);
	s.seq = isn;
	s.flags = XP_SYN | XP_ACK;
	s.mss = 1400;
	s.sack_perm = true;
	s.wscale = 2;
	s.tsval = 5000;
	TH_LOG("send %s", XP_SEG_STR(&s));
	ASSERT_EQ(0, xp_send(&self->p, &s));

	err = xp_expect(&self->p, &r, XP_SYN | XP_ACK | XP_RST | XP_FIN,
			XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no ACK (%d)", err);
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(syn.seq + 1, r.seq);
	EXPECT_EQ(isn + 1, r.ack);
	EXPECT_EQ(5000U, r.tsecr);

	ASSERT_TRUE(xtcp_wait_fd(fd, POLLOUT, 3000) & POLLOUT);
	ASSERT_EQ(0, getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &len));
	ASSERT_EQ(0, soerr);
	ASSERT_EQ(4, send(fd, "ping", 4, 0));

	err = xp_expect(&self->p, &r, XP_SYN | XP_RST | XP_FIN | XP_ACK,
			XP_ACK, 3000);
	ASSERT_EQ(0, err) TH_LOG("no data (%d)", err);
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(syn.seq + 1, r.seq);
	EXPECT_EQ(isn + 1, r.ack);
	ASSERT_EQ(4U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "ping", 4));
	close(fd);
}

/* A segment with a bad checksum is dropped and counted, nothing else. */
TEST_F(tcp, bad_checksum_ignored)
{
	__u8 pkt[256];
	struct xp_seg bad, good, r;
	long before, after;
	int lfd, len, err;

	lfd = tcp_listener(8082);
	ASSERT_LE(0, lfd);

	xp_seg_init(&self->p, &bad);
	bad.sport = 40003;
	bad.dport = 8082;
	bad.seq = 1111;
	bad.flags = XP_SYN;
	bad.mss = 1460;
	bad.mangle = XP_MANGLE_CSUM;
	good = bad;
	good.sport = 40004;
	good.seq = 2222;
	good.mangle = 0;

	/* The knob does what it says: only the mangled one fails. */
	len = xp_build(IPPROTO_TCP, &bad, 1, pkt, sizeof(pkt));
	ASSERT_LT(0, len);
	ASSERT_EQ(0, xp_parse(IPPROTO_TCP, &r, pkt, len));
	EXPECT_FALSE(r.csum_ok);
	len = xp_build(IPPROTO_TCP, &good, 1, pkt, sizeof(pkt));
	ASSERT_LT(0, len);
	ASSERT_EQ(0, xp_parse(IPPROTO_TCP, &r, pkt, len));
	EXPECT_TRUE(r.csum_ok);

	before = xtcp_snmp_tcp("InCsumErrors");
	ASSERT_LE(0, before);
	ASSERT_EQ(0, xp_send(&self->p, &bad));
	ASSERT_EQ(0, xp_send(&self->p, &good));

	/*
	 * tun hands a written packet to the stack before write() returns,
	 * so an answer to the bad SYN would come before the good one's.
	 */
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_EQ(XP_SYN | XP_ACK, r.flags);
	EXPECT_EQ(good.sport, r.dport);
	EXPECT_EQ(good.seq + 1, r.ack);
	err = xp_recv(&self->p, &r, 300);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("unexpected %s", XP_SEG_STR(&r));

	after = xtcp_snmp_tcp("InCsumErrors");
	EXPECT_EQ(before + 1, after);
	close(lfd);
}

/* An unanswered SYN-ACK is sent again after the 1 s initial RTO. */
TEST_F_TIMEOUT(tcp, synack_retransmit, 30)
{
	struct xp_seg s, first, again;
	__s64 t0, t1;
	int lfd, err;

	/* Our own namespace: no need to restore it. */
	ASSERT_EQ(0, xtcp_write_file(SYNACK_RETRIES, "1"));
	lfd = tcp_listener(8083);
	ASSERT_LE(0, lfd);

	xp_seg_init(&self->p, &s);
	s.sport = 40005;
	s.dport = 8083;
	s.seq = 424242;
	s.flags = XP_SYN;
	s.mss = 1460;
	s.ts = true;
	s.tsval = 1;
	ASSERT_EQ(0, xp_send(&self->p, &s));

	ASSERT_EQ(0, xp_recv(&self->p, &first, 3000));
	t0 = xp_now_ms();
	TH_LOG("got %s", XP_SEG_STR(&first));
	ASSERT_EQ(XP_SYN | XP_ACK, first.flags);

	err = xp_recv(&self->p, &again, 6000);
	t1 = xp_now_ms();
	ASSERT_EQ(0, err) TH_LOG("no retransmission (%d)", err);
	TH_LOG("got %s after %lld ms", XP_SEG_STR(&again),
	       (long long)(t1 - t0));
	EXPECT_TRUE(again.csum_ok);
	EXPECT_EQ(XP_SYN | XP_ACK, again.flags);
	EXPECT_EQ(first.seq, again.seq);
	EXPECT_EQ(first.ack, again.ack);
	EXPECT_EQ(first.mss, again.mss);
	EXPECT_TRUE(again.ts);
	EXPECT_EQ(1U, again.tsecr);
	EXPECT_LE(800, t1 - t0);

	/* One retry allowed: 2 s later the request is dropped, silently. */
	err = xp_recv(&self->p, &again, 4000);
	EXPECT_EQ(-ETIMEDOUT, err) TH_LOG("unexpected %s",
					  XP_SEG_STR(&again));

	/* ... so completing the handshake now gets a RST. */
	xp_seg_reply(&first, &s);
	s.tsval = 2;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(0, xp_recv(&self->p, &again, 3000));
	TH_LOG("got %s", XP_SEG_STR(&again));
	EXPECT_EQ(XP_RST, again.flags & (XP_RST | XP_SYN));
	EXPECT_EQ(s.ack, again.seq);
	close(lfd);
}

FIXTURE(p253) {
	struct xp_peer p;
	int raw;
};

FIXTURE_SETUP(p253)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	err = xp_open(&self->p, PROTO_253, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
	self->raw = socket(AF_INET, SOCK_RAW, PROTO_253);
	ASSERT_LE(0, self->raw) TH_LOG("raw socket: %s", strerror(errno));
}

FIXTURE_TEARDOWN(p253)
{
	close(self->raw);
	xp_close(&self->p);
}

/* Peer to kernel: a raw socket sees the segment as xp_send() built it. */
TEST_F(p253, send)
{
	struct xp_seg s;
	__u8 buf[512], *th;
	ssize_t n;

	xp_seg_init(&self->p, &s);
	s.sport = 40010;
	s.dport = 5000;
	s.seq = 0x01020304;
	s.ack = 0xa0b0c0d0;
	s.flags = XP_ACK | XP_PSH;
	s.window = 1234;
	s.ts = true;
	s.tsval = 0x11223344;
	s.tsecr = 0x55667788;
	s.data = "abcde";	/* odd length: checksum pads */
	s.len = 5;
	ASSERT_EQ(0, xp_send(&self->p, &s));

	ASSERT_TRUE(xtcp_wait_fd(self->raw, POLLIN, 3000) & POLLIN);
	n = recv(self->raw, buf, sizeof(buf), MSG_DONTWAIT);
	ASSERT_EQ(20 + 20 + 12 + 5, n);
	EXPECT_EQ(0x45, buf[0]);
	EXPECT_EQ(PROTO_253, buf[9]);
	th = buf + 20;
	EXPECT_EQ(40010, th[0] << 8 | th[1]);
	EXPECT_EQ(5000, th[2] << 8 | th[3]);
	EXPECT_EQ(0, memcmp(th + 4, "\x01\x02\x03\x04\xa0\xb0\xc0\xd0", 8));
	EXPECT_EQ(8 << 4, th[12]);
	EXPECT_EQ(XP_ACK | XP_PSH, th[13]);
	EXPECT_EQ(1234, th[14] << 8 | th[15]);
	EXPECT_EQ(0, memcmp(th + 20, "\x01\x01\x08\x0a\x11\x22\x33\x44"
			    "\x55\x66\x77\x88", 12));
	EXPECT_EQ(0, memcmp(th + 32, "abcde", 5));
	/* Summing over a right checksum field gives zero. */
	EXPECT_EQ(0, ref_csum(PADDR, KADDR, PROTO_253, th, n - 20));
	EXPECT_NE(0, ref_csum(PADDR, KADDR, IPPROTO_TCP, th, n - 20));
}

/* Kernel to peer: a hand-made segment parses; TCP traffic is passed over. */
TEST_F(p253, recv)
{
	struct sockaddr_in dst = xtcp_sin(PADDR, 0);
	struct sockaddr_in tcp_dst = xtcp_sin(PADDR, 8085);
	__u8 seg[20 + 12 + 3] = {
		0x13, 0x88, 0x9c, 0x4b,		/* 5000 -> 40011 */
		0xde, 0xad, 0xbe, 0xef,		/* seq */
		0x00, 0x00, 0x00, 0x2a,		/* ack 42 */
		0x81, 0xd1,			/* doff 8, AE, CWR ECE ACK FIN */
		0x40, 0x00,			/* window 16384 */
		0x00, 0x00,			/* checksum */
		0x00, 0x07,			/* urgent pointer 7 */
		0x01, 0x01, 0x08, 0x0a,		/* NOP NOP TS */
		0x00, 0x00, 0x00, 0x09,
		0x00, 0x00, 0x00, 0x0a,
		'x', 'y', 'z',
	};
	struct xp_seg r;
	int tfd, err;
	ssize_t n;
	__u16 c;

	/* A TCP SYN to the peer goes first; the 253 peer must skip it. */
	tfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, IPPROTO_TCP);
	ASSERT_LE(0, tfd);
	connect(tfd, (struct sockaddr *)&tcp_dst, sizeof(tcp_dst));

	c = ref_csum(KADDR, PADDR, PROTO_253, seg, sizeof(seg));
	seg[16] = c >> 8;
	seg[17] = c & 0xff;
	n = sendto(self->raw, seg, sizeof(seg), 0, (struct sockaddr *)&dst,
		   sizeof(dst));
	ASSERT_EQ((ssize_t)sizeof(seg), n);

	err = xp_recv(&self->p, &r, 3000);
	ASSERT_EQ(0, err) TH_LOG("xp_recv: %d", err);
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_LE(1U, self->p.ignored);
	EXPECT_TRUE(r.csum_ok);
	EXPECT_FALSE(r.csum_partial);
	EXPECT_EQ(c, r.csum);
	EXPECT_EQ(self->p.kaddr.s_addr, r.saddr.s_addr);
	EXPECT_EQ(self->p.paddr.s_addr, r.daddr.s_addr);
	EXPECT_EQ(5000, r.sport);
	EXPECT_EQ(40011, r.dport);
	EXPECT_EQ(0xdeadbeef, r.seq);
	EXPECT_EQ(42U, r.ack);
	EXPECT_EQ(8, r.doff);
	EXPECT_EQ(XP_AE | XP_CWR | XP_ECE | XP_ACK | XP_FIN, r.flags);
	EXPECT_EQ(16384, r.window);
	EXPECT_EQ(7, r.urg);
	EXPECT_EQ(0, r.mss);
	EXPECT_EQ(-1, r.wscale);
	EXPECT_FALSE(r.sack_perm);
	EXPECT_TRUE(r.ts);
	EXPECT_EQ(9U, r.tsval);
	EXPECT_EQ(10U, r.tsecr);
	ASSERT_EQ(3U, r.len);
	EXPECT_EQ(0, memcmp(r.data, "xyz", 3));

	/* The same bytes checksummed for protocol 6 do not verify. */
	seg[16] = 0;
	seg[17] = 0;
	c = ref_csum(KADDR, PADDR, IPPROTO_TCP, seg, sizeof(seg));
	seg[16] = c >> 8;
	seg[17] = c & 0xff;
	n = sendto(self->raw, seg, sizeof(seg), 0, (struct sockaddr *)&dst,
		   sizeof(dst));
	ASSERT_EQ((ssize_t)sizeof(seg), n);
	ASSERT_EQ(0, xp_recv(&self->p, &r, 3000));
	TH_LOG("got %s", XP_SEG_STR(&r));
	EXPECT_FALSE(r.csum_ok);
	EXPECT_EQ(0xdeadbeef, r.seq);
	close(tfd);
}

/* Malformed segments from a peer are built as asked. */
TEST(build_knobs)
{
	static const __u8 raw[] = { 0x02, 0x04, 0x05, 0xb4, 0x01 };
	struct xp_seg s, r;
	struct xp_peer p;
	__u8 pkt[256];
	int len;

	memset(&p, 0, sizeof(p));
	inet_pton(AF_INET, PADDR, &p.paddr);
	inet_pton(AF_INET, KADDR, &p.kaddr);
	xp_seg_init(&p, &s);
	s.flags = XP_SYN;
	s.mss = 536;
	s.sack_perm = true;
	s.ts = true;
	s.wscale = 14;
	s.nsack = 1;
	s.sack[0][0] = 1;
	s.sack[0][1] = 2;
	len = xp_build(PROTO_253, &s, 7, pkt, sizeof(pkt));
	ASSERT_EQ(20 + 20 + 20 + 12, len);
	ASSERT_EQ(0, xp_parse(PROTO_253, &r, pkt, len));
	TH_LOG("%s", XP_SEG_STR(&r));
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(536, r.mss);
	EXPECT_EQ(14, r.wscale);
	EXPECT_TRUE(r.sack_perm);
	EXPECT_TRUE(r.ts);
	EXPECT_EQ(1U, r.nsack);
	EXPECT_EQ(2U, r.sack[0][1]);
	EXPECT_EQ(-ENOENT, xp_parse(IPPROTO_TCP, &r, pkt, len));

	/* Raw options, padded with EOL. */
	s.opts = raw;
	s.opts_len = sizeof(raw);
	len = xp_build(PROTO_253, &s, 7, pkt, sizeof(pkt));
	ASSERT_EQ(20 + 20 + 8, len);
	EXPECT_EQ(0, memcmp(pkt + 40, "\x02\x04\x05\xb4\x01\x00\x00\x00", 8));
	ASSERT_EQ(0, xp_parse(PROTO_253, &r, pkt, len));
	EXPECT_EQ(1460, r.mss);
	EXPECT_EQ(-1, r.wscale);

	/* A data offset beyond the segment: built as asked, parse refuses. */
	s.opts = NULL;
	s.mss = 0;
	s.sack_perm = false;
	s.ts = false;
	s.wscale = -1;
	s.nsack = 0;
	s.mangle = XP_SET_DOFF;
	s.doff = 15;
	len = xp_build(PROTO_253, &s, 7, pkt, sizeof(pkt));
	ASSERT_EQ(40, len);
	EXPECT_EQ(0xf0, pkt[32]);
	EXPECT_EQ(-EBADMSG, xp_parse(PROTO_253, &r, pkt, len));
	EXPECT_TRUE(r.csum_ok);

	/* Truncated: IP length covers 10 bytes, no checksum field. */
	s.mangle = 0;
	s.trunc = 10;
	len = xp_build(PROTO_253, &s, 7, pkt, sizeof(pkt));
	ASSERT_EQ(30, len);
	EXPECT_EQ(30, pkt[2] << 8 | pkt[3]);
	EXPECT_EQ(-EBADMSG, xp_parse(PROTO_253, &r, pkt, len));

	/* Explicit checksum and TTL. */
	s.trunc = 0;
	s.mangle = XP_SET_CSUM;
	s.csum = 0xbeef;
	s.ttl = 1;
	len = xp_build(PROTO_253, &s, 7, pkt, sizeof(pkt));
	ASSERT_EQ(0, xp_parse(PROTO_253, &r, pkt, len));
	EXPECT_EQ(0xbeef, r.csum);
	EXPECT_FALSE(r.csum_ok);
	EXPECT_EQ(1, r.ttl);
	EXPECT_EQ(7, r.ip_id);
}

/*
 * IPv6 segments: the fixed header as RFC 8200 section 3 lays it out, the
 * segment right after it, parsed back alike; anything but our next header
 * there (ICMPv6, an extension header) is not ours. The kernel accepting
 * them is checked in test_peer's ipv6 variant.
 */
TEST(build_ipv6)
{
	struct xp_seg s, r;
	struct xp_peer p;
	__u8 pkt[256];
	int len;

	memset(&p, 0, sizeof(p));
	p.family = AF_INET6;
	inet_pton(AF_INET6, "fd00:9::2", &p.paddr6);
	inet_pton(AF_INET6, "fd00:9::1", &p.kaddr6);
	xp_seg_init(&p, &s);
	s.sport = 40000;
	s.dport = 80;
	s.seq = 1000;
	s.flags = XP_SYN;
	s.mss = 1440;
	s.ttl = 255;
	len = xp_build(PROTO_253, &s, 7, pkt, sizeof(pkt));
	ASSERT_EQ(40 + 20 + 4, len);
	EXPECT_EQ(0x60, pkt[0]);
	EXPECT_EQ(24, pkt[4] << 8 | pkt[5]);
	EXPECT_EQ(PROTO_253, pkt[6]);
	EXPECT_EQ(255, pkt[7]);
	EXPECT_EQ(0, memcmp(pkt + 8, &p.paddr6, 16));
	EXPECT_EQ(0, memcmp(pkt + 24, &p.kaddr6, 16));
	EXPECT_EQ(0x9c, pkt[40]);	/* 40000 */

	ASSERT_EQ(0, xp_parse(PROTO_253, &r, pkt, len));
	TH_LOG("%s", XP_SEG_STR(&r));
	EXPECT_EQ(AF_INET6, r.family);
	EXPECT_TRUE(r.csum_ok);
	EXPECT_EQ(255, r.ttl);
	EXPECT_EQ(1440, r.mss);
	EXPECT_EQ(40000, r.sport);
	EXPECT_EQ(0, memcmp(&r.saddr6, &p.paddr6, 16));
	EXPECT_EQ(0, memcmp(&r.daddr6, &p.kaddr6, 16));
	EXPECT_EQ(-ENOENT, xp_parse(IPPROTO_TCP, &r, pkt, len));

	/* The checksum covers the addresses. */
	pkt[39] ^= 1;
	ASSERT_EQ(0, xp_parse(PROTO_253, &r, pkt, len));
	EXPECT_FALSE(r.csum_ok);
	pkt[39] ^= 1;

	/* A payload length that disagrees is malformed. */
	pkt[5]++;
	EXPECT_EQ(-EBADMSG, xp_parse(PROTO_253, &r, pkt, len));
	pkt[5]--;

	/* Hop-by-hop options first: not a segment of ours. */
	pkt[6] = 0;
	EXPECT_EQ(-ENOENT, xp_parse(PROTO_253, &r, pkt, len));
}

TEST_HARNESS_MAIN
