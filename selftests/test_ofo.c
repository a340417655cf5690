// SPDX-License-Identifier: GPL-2.0
/*
 * The out-of-order queue under pressure, against Linux TCP as the oracle:
 * with the receive buffer full of data beyond a hole, the data that fills
 * the hole still gets in; a flood of one-byte segments with holes keeps
 * the socket's memory near its receive buffer, and the connection then
 * delivers every byte intact.
 */

#include <netinet/in.h>
#include <linux/sock_diag.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)
#define BOMB_SEGS	20000

#ifndef SO_MEMINFO
#define SO_MEMINFO	55
#endif

FIXTURE(ofo) {
	struct xp_peer p;
	struct xp_conn c;
	__u32 base;		/* the peer's first data byte */
};

FIXTURE_VARIANT(ofo) {
	int proto;
};

FIXTURE_VARIANT_ADD(ofo, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(ofo, xtcp) {
	.proto = IPPROTO_XTCP,
};

/* Byte @off of the peer's stream. */
static char pattern(__u32 off)
{
	return (char)(off * 7 + 3);
}

/* Send stream bytes [@off, @off + @len) as one segment. */
static int send_stream(struct xp_peer *p, struct xp_conn *c, __u32 base,
		       __u32 off, size_t len)
{
	char data[1400];
	struct xp_seg s;
	size_t i;

	for (i = 0; i < len; i++)
		data[i] = pattern(off + i);
	xp_conn_seg(p, c, &s, XP_ACK | XP_PSH);
	s.seq = base + off;
	s.data = data;
	s.len = len;
	return xp_send(p, &s);
}

/* Receive memory the socket holds now (SO_MEMINFO), or -errno. */
static long rmem_alloc(int fd)
{
	__u32 mem[SK_MEMINFO_VARS];
	socklen_t len = sizeof(mem);

	if (getsockopt(fd, SOL_SOCKET, SO_MEMINFO, mem, &len))
		return -errno;
	return mem[SK_MEMINFO_RMEM_ALLOC];
}

/* Read @len bytes of the stream from @off on, and check them. */
static int read_stream(int fd, __u32 off, size_t len)
{
	char buf[4096];
	size_t got = 0, i;
	ssize_t n;

	while (got < len) {
		if (!(xtcp_wait_fd(fd, POLLIN, 5000) & POLLIN))
			return -ETIMEDOUT;
		n = recv(fd, buf, len - got < sizeof(buf) ? len - got :
			 sizeof(buf), MSG_DONTWAIT);
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		for (i = 0; i < (size_t)n; i++)
			if (buf[i] != pattern(off + got + i))
				return -EBADMSG;
		got += n;
	}
	return 0;
}

FIXTURE_SETUP(ofo)
{
	int err;

	ASSERT_EQ(0, xp_unshare_net());
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));
	self->c.fd = -1;
}

/* A connection to the peer; SO_RCVBUF @rcvbuf unless 0. 0 or -errno. */
static int start(FIXTURE_DATA(ofo) *self, int proto, int rcvbuf)
{
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if (rcvbuf && xtcp_set_int(fd, SOL_SOCKET, SO_RCVBUF, rcvbuf)) {
		close(fd);
		return -errno;
	}
	err = xp_conn_connect(&self->p, &self->c, fd, 9090, 0x40000000,
			      65535, false);
	self->base = self->c.p_nxt;
	return err;
}

FIXTURE_TEARDOWN(ofo)
{
	if (self->c.fd >= 0)
		close(self->c.fd);
	xp_close(&self->p);
}

/*
 * Segments beyond a hole fill the receive buffer; the segment that fills
 * the hole is taken all the same (out-of-order data makes room), and read.
 */
TEST_F(ofo, hole_filled_when_buffer_full_of_ofo)
{
	struct xp_seg r;
	int i;

	/* sk_rcvbuf 16384, a window of about half that. */
	ASSERT_EQ(0, start(self, variant->proto, 8192));
	for (i = 1; i <= 100; i++)
		ASSERT_EQ(0, send_stream(&self->p, &self->c, self->base,
					 1000 + i * 30, 15));
	xp_drain(&self->p);
	EXPECT_LT(16384 / 2, rmem_alloc(self->c.fd));

	ASSERT_EQ(0, send_stream(&self->p, &self->c, self->base, 0, 1000));
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &self->c, &r, CTL, XP_ACK,
					self->base + 1000, 3000))
		TH_LOG("the hole was not filled: last ACK %u, wanted %u",
		       r.ack, self->base + 1000);
	ASSERT_EQ(0, read_stream(self->c.fd, 0, 1000));
}

/* The third value of net.ipv4.tcp_rmem, or -1. */
static long tcp_rmem_max(void)
{
	char buf[128];
	long lo, def, max;

	if (xtcp_read_file("/proc/sys/net/ipv4/tcp_rmem", buf, sizeof(buf)) ||
	    sscanf(buf, "%ld %ld %ld", &lo, &def, &max) != 3)
		return -1;
	return max;
}

/*
 * BOMB_SEGS one-byte segments, each beyond a hole: the socket holds no
 * more than about its receive buffer; then the whole stream, in order,
 * arrives intact. Linux TCP differs by design: under such a flood
 * tcp_clamp_window() grows the buffer up to tcp_rmem[2] (6 MiB), and that
 * is its bound; xtcp keeps to the buffer it has.
 */
TEST_F(ofo, one_byte_segments_with_holes)
{
	long rmem, peak = 0, rcvbuf;
	__u32 off, end = 2 * BOMB_SEGS + 2;
	struct xp_seg r;
	int i;

	/* The default buffer: a window of 64 KiB holds the flood. */
	ASSERT_EQ(0, start(self, variant->proto, 0));
	rcvbuf = xtcp_get_int(self->c.fd, SOL_SOCKET, SO_RCVBUF);
	ASSERT_LT(0, rcvbuf);
	for (i = 0; i < BOMB_SEGS; i++) {
		ASSERT_EQ(0, send_stream(&self->p, &self->c, self->base,
					 2 + 2 * i, 1));
		if (i % 500 == 0) {
			rmem = rmem_alloc(self->c.fd);
			ASSERT_LE(0, rmem);
			peak = rmem > peak ? rmem : peak;
			xp_drain(&self->p);
		}
	}
	rmem = rmem_alloc(self->c.fd);
	peak = rmem > peak ? rmem : peak;
	TH_LOG("%s: peak receive memory %ld bytes, receive buffer %ld",
	       variant->proto == IPPROTO_TCP ? "TCP" : "xtcp", peak, rcvbuf);
	/* The buffer, and at most one segment's worth beyond it. */
	if (variant->proto == IPPROTO_TCP) {
		EXPECT_GE(tcp_rmem_max() + 4096, peak);
	} else {
		EXPECT_GE(rcvbuf + 4096, peak);
	}
	xp_drain(&self->p);

	/* The whole stream in order: every byte arrives once. */
	for (off = 0; off < end; off += 1000) {
		ASSERT_EQ(0, send_stream(&self->p, &self->c, self->base, off,
					 end - off < 1000 ? end - off : 1000));
		ASSERT_EQ(0, read_stream(self->c.fd, off,
					 end - off < 1000 ? end - off : 1000))
			TH_LOG("stream stalled at offset %u", off);
	}
	ASSERT_EQ(0, xp_conn_expect_ack(&self->p, &self->c, &r, CTL, XP_ACK,
					self->base + end, 3000));
}

TEST_HARNESS_MAIN
