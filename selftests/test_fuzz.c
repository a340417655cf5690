// SPDX-License-Identifier: GPL-2.0
/*
 * Random and malformed segments, against Linux TCP as the oracle: the
 * scripted peer sends at least FUZZ_SEGS segments (random flags with the
 * reserved bits, sequence and acknowledgment numbers near the real ones
 * and anywhere, garbage options with evil lengths, any data offset, bad
 * checksums, truncated headers, random payloads) at a listener, at the
 * half-open connections it makes, and at connections in ESTABLISHED,
 * CLOSE_WAIT, FIN_WAIT_2, TIME_WAIT and SYN_SENT. Afterwards every
 * connection is either usable both ways, with the data intact, or was
 * reset or closed by the segments; the listener serves a new connection;
 * the counters of malformed segments moved by what was sent; once closed,
 * every socket goes within seconds. Two cases the storm found follow it:
 * a bogus TSecr must not inflate the RTO, and a small window must still
 * be served.
 *
 * The generator is a seeded splitmix64: the seed is printed, and
 * XTCP_FUZZ_SEED=N replays a run; XTCP_FUZZ_SEGS=N sends N segments
 * instead (to replay a run up to its failure).
 */

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "kselftest_harness.h"
#include "xtcp_test.h"
#include "xtcp_peer.h"

#define KADDR		"10.9.0.1"
#define PADDR		"10.9.0.2"
#define CTL		(XP_SYN | XP_ACK | XP_RST | XP_FIN)
#define LPORT		8080
#define FUZZ_SEGS	100000
#define DRAIN_EVERY	32
#define NHALF		16
#define NLPORTS		64	/* peer ports aimed at the listener */
#define CHUNK		1000
#define JUNK		8192

enum role {
	R_EST,		/* ESTABLISHED, no timestamps */
	R_EST_TS,	/* ESTABLISHED, timestamps */
	R_EST_SMALL,	/* ESTABLISHED, small receive buffer */
	R_CLOSE_WAIT,	/* the peer closed */
	R_FIN_WAIT2,	/* the kernel shut down its side, the peer ACKed */
	R_TIME_WAIT,	/* the kernel closed first: an entry, no socket */
	R_SYN_SENT,	/* connect() the peer never answered */
	NROLES
};

static const char * const role_name[NROLES] = {
	"established", "established+ts", "established+rcvbuf",
	"close_wait", "fin_wait2", "time_wait", "syn_sent",
};

struct half {
	__u16 pport;
	__u32 pseq;	/* the peer's next sequence number */
	__u32 kseq;	/* the kernel's, after its SYN-ACK */
};

FIXTURE(fuzz) {
	struct xp_peer p;
	struct xp_conn c[NROLES];
	int lfd;
	__u64 rng;
	struct half half[NHALF];
	unsigned int nhalf;
	__u32 lseq[NLPORTS];	/* per listener port: a stable ISN */
	long sent;		/* segments written */
	long csum_bad;		/* complete header, wrong checksum */
	long csum_bad_opts;	/* ... and options tcp_inbound_hash() refuses */
	long short_hdr;		/* shorter than 20 bytes or the data offset */
	long doff_low;		/* complete, data offset below 5 */
	long accepted;		/* children accept() returned meanwhile */
	__u16 next_pport;	/* peer port of the next connection */
	__u8 junk[JUNK];
	__u8 pkt[XP_BUF_SIZE];
};

FIXTURE_VARIANT(fuzz) {
	int proto;
};

FIXTURE_VARIANT_ADD(fuzz, tcp) {
	.proto = IPPROTO_TCP,
};

FIXTURE_VARIANT_ADD(fuzz, xtcp) {
	.proto = IPPROTO_XTCP,
};

/* splitmix64 (Steele, Lea, Flood 2014). */
static __u64 rnd64(__u64 *state)
{
	__u64 z = (*state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), n > 0 (the bias of the modulo does not matter). */
static __u32 rnd(__u64 *state, __u32 n)
{
	return rnd64(state) % n;
}

/* True with probability @pct percent. */
static bool chance(__u64 *state, unsigned int pct)
{
	return rnd(state, 100) < pct;
}

/* A value near @base: the edges and anywhere within a window of it. */
static __u32 near(__u64 *state, __u32 base)
{
	switch (rnd(state, 8)) {
	case 0:
		return base;
	case 1:
		return base + 1;
	case 2:
		return base - 1;
	case 3:
		return base + 65535 - rnd(state, 3);
	case 4:
		return base - 65536 + rnd(state, 3);
	default:
		return base + (__s32)(rnd(state, 131071) - 65535);
	}
}

static __u32 near_or_far(__u64 *state, __u32 base)
{
	return chance(state, 75) ? near(state, base) : (__u32)rnd64(state);
}

/*
 * Option bytes for a segment, at most XP_MAX_OPTLEN: well-formed options
 * and evil ones (length 0 or 1, a wrong length for a known kind, a length
 * running past the end, a truncated timestamp at the end) in any order.
 */
static size_t gen_opts(__u64 *st, __u8 *b)
{
	unsigned int pieces = 1 + rnd(st, 6), i;
	__u8 tmp[64];
	size_t n = 0, k, len;

	for (i = 0; i < pieces && n < XP_MAX_OPTLEN; i++) {
		k = 0;
		switch (rnd(st, 13)) {
		case 0:
			tmp[k++] = XP_OPT_EOL;
			break;
		case 1:
			tmp[k++] = XP_OPT_NOP;
			break;
		case 2:		/* MSS, maybe with a wrong length */
			tmp[k++] = XP_OPT_MSS;
			tmp[k++] = chance(st, 60) ? XP_OPTLEN_MSS : rnd(st, 8);
			tmp[k++] = rnd(st, 256);
			tmp[k++] = rnd(st, 256);
			break;
		case 3:		/* window scale */
			tmp[k++] = XP_OPT_WSCALE;
			tmp[k++] = chance(st, 60) ? XP_OPTLEN_WSCALE :
				   rnd(st, 6);
			tmp[k++] = rnd(st, 256);
			break;
		case 4:
			tmp[k++] = XP_OPT_SACK_PERM;
			tmp[k++] = chance(st, 60) ? XP_OPTLEN_SACK_PERM :
				   rnd(st, 5);
			break;
		case 5:		/* timestamps */
		case 6:
			tmp[k++] = XP_OPT_TS;
			tmp[k++] = chance(st, 70) ? XP_OPTLEN_TS : rnd(st, 14);
			for (len = 0; len < 8; len++)
				tmp[k++] = rnd(st, 256);
			break;
		case 7:		/* SACK blocks, any count, maybe ragged */
			len = 2 + 8 * rnd(st, 5);
			if (chance(st, 30))
				len += rnd(st, 8);
			tmp[k++] = XP_OPT_SACK;
			tmp[k++] = len;
			for (len = 0; len < 32 && k < sizeof(tmp); len++)
				tmp[k++] = rnd(st, 256);
			break;
		case 8:		/* any kind, length 0 or 1 */
			tmp[k++] = rnd(st, 256);
			tmp[k++] = rnd(st, 2);
			break;
		case 9:		/* a length past the end of the options */
			tmp[k++] = rnd(st, 256);
			tmp[k++] = XP_MAX_OPTLEN - n + 1 + rnd(st, 200);
			tmp[k++] = rnd(st, 256);
			break;
		case 10:	/* a kind at the very end, no length byte */
			if (n < XP_MAX_OPTLEN) {
				b[n++] = 2 + rnd(st, 254);
				return n;
			}
			break;
		case 11:	/* unknown kind, plausible length */
			len = 2 + rnd(st, 10);
			tmp[k++] = 9 + rnd(st, 240);
			tmp[k++] = len;
			while (k < len + 2 && k < sizeof(tmp))
				tmp[k++] = rnd(st, 256);
			break;
		default:	/* random bytes */
			len = 1 + rnd(st, 12);
			while (k < len)
				tmp[k++] = rnd(st, 256);
			break;
		}
		/* Whatever does not fit is cut: truncated options. */
		for (len = 0; len < k && n < XP_MAX_OPTLEN; len++)
			b[n++] = tmp[len];
	}
	return n;
}

/* The flags of a fuzzed segment: all 12 bits or a plausible set. */
static unsigned int gen_flags(__u64 *st)
{
	static const unsigned int common[] = {
		XP_ACK, XP_ACK | XP_PSH, XP_SYN, XP_SYN | XP_ACK, XP_RST,
		XP_RST | XP_ACK, XP_FIN | XP_ACK, XP_FIN | XP_PSH | XP_ACK,
		XP_FIN, 0, XP_SYN | XP_FIN, XP_SYN | XP_RST, XP_URG | XP_ACK,
	};
	unsigned int f;

	if (chance(st, 40))
		return rnd(st, 0x1000);
	f = common[rnd(st, ARRAY_SIZE(common))];
	if (chance(st, 20))
		f |= 1U << rnd(st, 12);
	return f;
}

/*
 * One fuzzed segment into @s: a target (the listener, a half-open
 * connection, one of the connections, or anything), then every field.
 */
static void gen_seg(FIXTURE_DATA(fuzz) *self, struct xp_seg *s, __u8 *opts)
{
	__u64 *st = &self->rng;
	__u32 seq = 0, ack = 0;
	unsigned int t = rnd(st, 100), i;
	struct xp_conn *c;
	struct half *h;

	xp_seg_init(&self->p, s);
	if (t < 30) {			/* the listener */
		i = rnd(st, NLPORTS);
		s->sport = 40000 + i;
		if (chance(st, 10))
			s->sport = rnd(st, 65536);
		s->dport = LPORT;
		seq = self->lseq[i];
		ack = (__u32)rnd64(st);
	} else if (t < 45 && self->nhalf) {	/* its half-open children */
		h = &self->half[rnd(st, self->nhalf < NHALF ?
				    self->nhalf : NHALF)];
		s->sport = h->pport;
		s->dport = LPORT;
		seq = h->pseq;
		ack = h->kseq;
	} else if (t < 95) {		/* the connections */
		c = &self->c[rnd(st, NROLES)];
		s->sport = c->pport;
		s->dport = c->kport;
		if (chance(st, 3))
			s->dport += rnd(st, 3) - 1;
		seq = c->p_nxt;
		ack = c->k_nxt;
	} else {			/* anything */
		s->sport = rnd(st, 65536);
		s->dport = rnd(st, 65536);
	}
	s->seq = near_or_far(st, seq);
	s->ack = near_or_far(st, ack);
	s->flags = gen_flags(st);
	s->window = chance(st, 20) ? rnd(st, 3) : rnd(st, 65536);
	if (chance(st, 20))
		s->urg = rnd(st, 65536);

	switch (rnd(st, 4)) {
	case 0:				/* none */
		break;
	case 1:				/* well-formed, random values */
		s->mss = chance(st, 50) ? rnd(st, 65536) : 0;
		s->wscale = (int)rnd(st, 20) - 1;
		s->sack_perm = chance(st, 30);
		s->ts = chance(st, 60);
		s->tsval = near_or_far(st, 1000);
		s->tsecr = (__u32)rnd64(st);
		s->nsack = s->ts || s->mss || s->wscale >= 0 ? 0 : rnd(st, 5);
		for (i = 0; i < s->nsack; i++) {
			s->sack[i][0] = near_or_far(st, ack);
			s->sack[i][1] = near_or_far(st, ack);
		}
		break;
	default:			/* garbage */
		s->opts = opts;
		s->opts_len = gen_opts(st, opts);
		break;
	}

	if (chance(st, 50)) {
		s->len = chance(st, 90) ? 1 + rnd(st, 1460) :
					  1 + rnd(st, JUNK - 1);
		s->data = self->junk + rnd(st, JUNK - s->len + 1);
	}
	if (chance(st, 20)) {
		s->mangle |= XP_SET_DOFF;
		s->doff = rnd(st, 16);
	}
	if (chance(st, 10))
		s->mangle |= XP_MANGLE_CSUM;
	else if (chance(st, 2))
		s->mangle |= XP_SET_CSUM;	/* s->csum 0 */
	if (chance(st, 8))
		s->trunc = 1 + rnd(st, 60);
}

/*
 * Does Linux TCP's tcp_parse_auth_options() refuse these options? Then
 * tcp_v4_rcv() drops a segment for a socket before its checksum is
 * verified (SKB_DROP_REASON_TCP_AUTH_HDR), and InCsumErrors does not
 * count it. The parser of net/ipv4/tcp.c, with TCP-AO configured.
 */
static bool tcp_auth_opts_bad(const __u8 *ptr, int length)
{
	bool md5 = false, ao = false;
	int opcode, opsize;

	while (length >= 5) {
		opcode = *ptr++;
		if (opcode == XP_OPT_EOL)
			return false;
		if (opcode == XP_OPT_NOP) {
			length--;
			continue;
		}
		opsize = *ptr++;
		if (opsize < 2 || opsize > length)
			return true;
		if (opcode == 19) {		/* TCPOPT_MD5SIG */
			if (opsize != 18 || md5 || ao)
				return true;
			md5 = true;
		} else if (opcode == 29) {	/* TCPOPT_AO */
			if (opsize <= 4 || md5 || ao)
				return true;
			ao = true;
		}
		ptr += opsize - 2;
		length -= opsize;
	}
	return false;
}

/*
 * Build and write one segment; count what a receiver must see as
 * malformed. 0 or -errno.
 */
static int fuzz_send(FIXTURE_DATA(fuzz) *self, const struct xp_seg *s)
{
	const __u8 *th = self->pkt + sizeof(struct xp_iphdr);
	size_t seglen, doff;
	int len;

	len = xp_build(self->p.proto, s, self->p.ip_id++, self->pkt,
		       sizeof(self->pkt));
	if (len < 0)
		return len;
	if (write(self->p.fd, self->pkt, len) != len)
		return -errno;
	self->sent++;

	seglen = len - sizeof(struct xp_iphdr);
	doff = seglen > 12 ? (th[12] >> 4) * 4 : 0;
	if (seglen < XP_HDR_LEN) {
		self->short_hdr++;
	} else if (doff < XP_HDR_LEN) {
		self->doff_low++;
	} else if (doff > seglen) {
		self->short_hdr++;
	} else if (xp_csum_fold(xp_csum_add(xp_pseudo_sum(s->saddr, s->daddr,
							  self->p.proto,
							  seglen),
					    th, seglen)) != 0xffff) {
		self->csum_bad++;
		if (tcp_auth_opts_bad(th + XP_HDR_LEN, doff - XP_HDR_LEN))
			self->csum_bad_opts++;
	}
	return 0;
}

/*
 * Read what the kernel sent: learn the listener's SYN-ACKs (fuzz targets
 * for the half-open children) and accept and close its children.
 */
static void fuzz_drain(FIXTURE_DATA(fuzz) *self)
{
	struct xp_seg r;
	ssize_t n;
	int fd;

	while ((n = read(self->p.fd, self->p.buf, sizeof(self->p.buf))) >= 0) {
		if (xp_parse(self->p.proto, &r, self->p.buf, n) ||
		    r.sport != LPORT ||
		    (r.flags & (XP_SYN | XP_ACK | XP_RST)) != (XP_SYN | XP_ACK))
			continue;
		self->half[self->nhalf % NHALF] = (struct half) {
			.pport = r.dport, .pseq = r.ack, .kseq = r.seq + 1,
		};
		self->nhalf++;
	}
	while ((fd = accept4(self->lfd, NULL, NULL, SOCK_NONBLOCK)) >= 0) {
		self->accepted++;
		close(fd);
	}
}

/* Byte @off of the test data the two ends exchange afterwards. */
static char pattern(__u32 off)
{
	return (char)(off * 13 + 5);
}

static int set_knobs(int proto)
{
	if (proto == IPPROTO_XTCP)
		return xtcp_sysctl_set("retries2", 3) ?:
		       xtcp_sysctl_set("synack_retries", 1) ?:
		       xtcp_sysctl_set("fin_timeout", 3) ?:
		       xtcp_sysctl_set("rto_min", 50) ?:
		       xtcp_sysctl_set("msl", 30000);
	return xtcp_short_retries(proto, 3) ?:
	       xtcp_write_file("/proc/sys/net/ipv4/tcp_synack_retries", "1") ?:
	       xtcp_write_file("/proc/sys/net/ipv4/tcp_fin_timeout", "3");
}

/* Bring connection @role of @self into its state. 0 or -errno. */
static int setup_role(FIXTURE_DATA(fuzz) *self, int proto, enum role role)
{
	__u16 pport = self->next_pport++;
	struct sockaddr_in sin = xtcp_sin(PADDR, pport);
	struct xp_conn *c = &self->c[role];
	struct xp_peer *p = &self->p;
	struct xp_seg s, r;
	int fd, err;

	fd = socket(AF_INET, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	/*
	 * Urgent data inline: an urgent pointer from the storm may point
	 * into the data the peer sends afterwards, and Linux TCP would take
	 * that byte out of the stream.
	 */
	if (xtcp_set_int(fd, SOL_SOCKET, SO_OOBINLINE, 1) ||
	    (role == R_EST_SMALL && xtcp_set_int(fd, SOL_SOCKET, SO_RCVBUF,
						 4096))) {
		close(fd);
		return -errno;
	}
	if (role == R_SYN_SENT) {
		memset(c, 0, sizeof(*c));
		c->fd = fd;
		c->pport = pport;
		if (fcntl(fd, F_SETFL, O_NONBLOCK) ||
		    !connect(fd, (struct sockaddr *)&sin, sizeof(sin)) ||
		    errno != EINPROGRESS)
			return -EPROTO;
		err = xp_conn_expect(p, c, &r, CTL, XP_SYN, 3000);
		if (err)
			return err;
		c->kport = r.sport;
		c->k_nxt = r.seq + 1;
		c->p_nxt = 0x70000000;
		return 0;
	}
	err = xp_conn_connect(p, c, fd, pport, 0x10000000 * role,
			      65535, role == R_EST_TS);
	if (err) {
		close(fd);
		c->fd = -1;
		return err;
	}
	switch (role) {
	case R_CLOSE_WAIT:
		xp_conn_seg(p, c, &s, XP_FIN | XP_ACK);
		err = xp_send(p, &s);
		if (err)
			return err;
		c->p_nxt++;
		err = xp_conn_expect_ack(p, c, &r, CTL, XP_ACK, c->p_nxt, 3000);
		if (!err && (!(xtcp_wait_fd(fd, POLLIN, 3000) & POLLIN) ||
			     recv(fd, &s, 1, MSG_DONTWAIT) != 0))
			err = -EPROTO;
		return err;
	case R_FIN_WAIT2:
	case R_TIME_WAIT:
		if (role == R_FIN_WAIT2 ? shutdown(fd, SHUT_WR) : close(fd))
			return -errno;
		if (role == R_TIME_WAIT)
			c->fd = -1;
		err = xp_conn_expect(p, c, &r, XP_FIN, XP_FIN, 3000);
		if (err)
			return err;
		c->k_nxt = r.seq + r.len + 1;
		xp_conn_seg(p, c, &s, role == R_TIME_WAIT ?
			    XP_FIN | XP_ACK : XP_ACK);
		err = xp_send(p, &s);
		if (err || role == R_FIN_WAIT2)
			return err;
		c->p_nxt++;
		return xp_conn_expect_ack(p, c, &r, CTL, XP_ACK, c->p_nxt,
					  3000);
	default:
		return 0;
	}
}

FIXTURE_SETUP(fuzz)
{
	struct sockaddr_in sin = xtcp_sin(KADDR, LPORT);
	const char *env = getenv("XTCP_FUZZ_SEED");
	unsigned int i;
	int err;

	for (i = 0; i < NROLES; i++)
		self->c[i].fd = -1;
	self->lfd = -1;
	self->next_pport = 10000;
	self->rng = env ? strtoull(env, NULL, 0) :
		    (__u64)time(NULL) << 20 ^ (__u64)getpid();
	TH_LOG("seed %llu (XTCP_FUZZ_SEED=%llu replays it)",
	       (unsigned long long)self->rng, (unsigned long long)self->rng);
	for (i = 0; i < JUNK; i++)
		self->junk[i] = rnd(&self->rng, 256);
	for (i = 0; i < NLPORTS; i++)
		self->lseq[i] = rnd64(&self->rng);

	ASSERT_EQ(0, xp_unshare_net());
	ASSERT_EQ(0, set_knobs(variant->proto));
	err = xp_open(&self->p, variant->proto, KADDR, PADDR);
	ASSERT_EQ(0, err) TH_LOG("xp_open: %s", strerror(-err));

	self->lfd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK,
			   variant->proto);
	ASSERT_LE(0, self->lfd);
	ASSERT_EQ(0, bind(self->lfd, (struct sockaddr *)&sin, sizeof(sin)));
	ASSERT_EQ(0, listen(self->lfd, 16));
}

FIXTURE_TEARDOWN(fuzz)
{
	unsigned int i;

	for (i = 0; i < NROLES; i++)
		if (self->c[i].fd >= 0)
			close(self->c[i].fd);
	if (self->lfd >= 0)
		close(self->lfd);
	xp_close(&self->p);
}

/* Counter @name of @proto: malformed segments. */
static long bad_counter(int proto, const char *name)
{
	return proto == IPPROTO_XTCP ? xtcp_counter(name) :
				       xtcp_snmp_tcp(name);
}

/*
 * The socket's side after the storm, without blocking: read and drop
 * whatever data the fuzzed segments put in order. 1 if the connection is
 * open for reading, 0 at EOF, -errno if it failed.
 */
static int app_drain(int fd)
{
	char buf[4096];
	ssize_t n;

	for (;;) {
		n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
		if (n > 0)
			continue;
		if (n == 0)
			return 0;
		if (errno == EAGAIN)
			return 1;
		if (errno != EINTR)
			return -errno;
	}
}

/*
 * What the kernel holds for @c: a segment far out of window with one byte
 * of data is answered by an ACK (never rate limited: it has data) carrying
 * the kernel's snd_nxt, rcv_nxt, window and, with timestamps, ts_recent.
 * Twice, so that the second answer comes after everything sent before.
 * 0, -ECONNRESET if a RST came back, or -errno.
 */
static int resync(struct xp_peer *p, struct xp_conn *c, struct xp_seg *r)
{
	struct xp_seg s;
	int i, err;

	for (i = 0; i < 2; i++) {
		xp_conn_seg(p, c, &s, XP_ACK);
		s.seq = c->p_nxt + 0x40000000;
		s.data = "?";
		s.len = 1;
		err = xp_send(p, &s);
		if (err)
			return err;
		err = xp_conn_expect(p, c, r, XP_SYN, 0, 3000);
		if (err)
			return err;
		if (r->flags & XP_RST)
			return -ECONNRESET;
		c->k_nxt = r->seq;
		c->p_nxt = r->ack;
		if (c->ts && r->ts)
			c->p_tsval = r->tsecr + 1;
	}
	return 0;
}

/*
 * The peer sends CHUNK bytes in order: the kernel acknowledges them and
 * the application reads them intact. Data the storm left in the
 * out-of-order queue right behind may join them; it is read and dropped.
 */
static int peer_to_app(struct xp_peer *p, struct xp_conn *c, __u32 off)
{
	char data[CHUNK], buf[4096];
	size_t want, got = 0, i;
	struct xp_seg r;
	__s64 deadline;
	ssize_t n;
	int err;

	for (i = 0; i < CHUNK; i++)
		data[i] = pattern(off + i);
	err = xp_conn_data(p, c, data, CHUNK);
	if (err)
		return err;
	deadline = xp_now_ms() + 5000;
	do {
		err = xp_conn_expect(p, c, &r, XP_SYN | XP_RST | XP_ACK, XP_ACK,
				     deadline - xp_now_ms());
		if (err)
			return err;
	} while ((__s32)(r.ack - c->p_nxt) < 0);
	want = CHUNK + (r.ack - c->p_nxt);
	c->p_nxt = r.ack;
	while (got < want) {
		if (!(xtcp_wait_fd(c->fd, POLLIN, 3000) & POLLIN))
			return -ETIMEDOUT;
		n = recv(c->fd, buf, want - got < sizeof(buf) ?
			 want - got : sizeof(buf), MSG_DONTWAIT);
		if (!n && got >= CHUNK)
			break;	/* a FIN the storm left behind our data */
		if (n <= 0)
			return n < 0 ? -errno : -ENODATA;
		for (i = 0; i < (size_t)n && got + i < CHUNK; i++)
			if (buf[i] != pattern(off + got + i))
				return -EBADMSG;
		got += n;
	}
	return 0;
}

/*
 * The application sends CHUNK bytes; the peer receives them in order,
 * intact, and acknowledges them. First the peer reopens its window: the
 * storm may have left a zero window that only a segment at or beyond the
 * last window update moves, so an ACK at the right edge of the kernel's
 * window goes along with one at rcv_nxt (@wnd 0: no storm, no need).
 */
static int app_to_peer(struct xp_peer *p, struct xp_conn *c, __u32 off,
		       __u16 wnd)
{
	char data[CHUNK];
	size_t got = 0, i;
	struct xp_seg s, r;
	__s64 deadline;
	__u32 at;
	int err;

	for (i = 0; i < CHUNK; i++)
		data[i] = pattern(off + i);
	/* The kernel's receive window as it stands now. */
	if (wnd) {
		err = resync(p, c, &r);
		if (err)
			return err;
		wnd = r.window;
	}
	if (send(c->fd, data, CHUNK, MSG_DONTWAIT) != CHUNK)
		return -errno;
	/*
	 * The window field is scaled by a shift the storm's SYN-ACK may have
	 * set (SYN_SENT): one ACK at the right edge for every shift.
	 */
	for (i = 0; wnd && i <= 14; i++) {
		xp_conn_seg(p, c, &s, XP_ACK);
		s.seq += ((__u32)wnd << i) - 1;
		err = xp_send(p, &s);
		if (err)
			return err;
	}
	xp_conn_seg(p, c, &s, XP_ACK);
	err = xp_send(p, &s);
	if (err)
		return err;
	deadline = xp_now_ms() + 5000;
	while (got < CHUNK) {
		err = xp_conn_expect(p, c, &r, XP_RST, 0,
				     deadline - xp_now_ms());
		if (err)
			return err;
		if (r.flags & XP_SYN) {
			/*
			 * A simultaneous open the storm started, its SYN-ACK
			 * never acknowledged (nor can the data go before):
			 * the peer acknowledges it now.
			 */
			c->k_nxt = r.seq + 1;
			xp_conn_seg(p, c, &s, XP_ACK);
			err = xp_send(p, &s);
			if (err)
				return err;
			continue;
		}
		at = r.seq - c->k_nxt;
		if (r.len && !got && at == 1) {
			/*
			 * The kernel's SYN is still unacknowledged: Linux TCP
			 * completes a simultaneous open on an ACK of its ISN,
			 * not ISN + 1 (tcp_ack() takes it as a duplicate).
			 * With a zero window from the storm, its ACKs carry
			 * the window's right edge (tcp_acceptable_seq()), here
			 * the SYN's own sequence number, which the probes
			 * took for snd_nxt. The data follow the SYN.
			 */
			c->k_nxt++;
			at = 0;
		}
		if (!r.len || at >= CHUNK || at > got) {
			/* An ACK, a probe, a retransmission */
			xp_seg_fmt(&r, p->last_skipped,
				   sizeof(p->last_skipped));
			continue;
		}
		for (i = got - at; i < r.len && at + i < CHUNK; i++)
			if (((const char *)r.data)[i] != pattern(off + at + i))
				return -EBADMSG;
		got = at + i;
		xp_conn_seg(p, c, &s, XP_ACK);
		s.ack = c->k_nxt + got;
		err = xp_send(p, &s);
		if (err)
			return err;
	}
	c->k_nxt += CHUNK;
	return 0;
}

/* What the kernel holds for @fd, for a failure's report. */
static void log_info(struct __test_metadata *_metadata,
		     FIXTURE_DATA(fuzz) *self, int fd,
		     const struct xp_seg *probe)
{
	struct xtcp_info xi;
	socklen_t len = sizeof(xi);

	TH_LOG("probe answered with %s", XP_SEG_STR(probe));
	TH_LOG("last segment passed over: %s", self->p.last_skipped);
	if (getsockopt(fd, SOL_XTCP, XTCP_INFO, &xi, &len)) {
		struct tcp_info ti;

		len = sizeof(ti);
		if (getsockopt(fd, SOL_TCP, TCP_INFO, &ti, &len))
			return;
		TH_LOG("state %u snd_mss %u rto %u us unacked %u retransmits %u backoff %u cwnd %u",
		       ti.tcpi_state, ti.tcpi_snd_mss, ti.tcpi_rto,
		       ti.tcpi_unacked, ti.tcpi_retransmits, ti.tcpi_backoff,
		       ti.tcpi_snd_cwnd);
		return;
	}
	TH_LOG("state %u snd_una %u snd_nxt %u rcv_nxt %u snd_wnd %u rcv_wnd %u cwnd %u unacked %u rto %u retransmits %u probes %u backoff %u ts_recent %u",
	       xi.xtcpi_state, xi.xtcpi_snd_una, xi.xtcpi_snd_nxt,
	       xi.xtcpi_rcv_nxt, xi.xtcpi_snd_wnd, xi.xtcpi_rcv_wnd,
	       xi.xtcpi_snd_cwnd, xi.xtcpi_unacked, xi.xtcpi_rto,
	       xi.xtcpi_retransmits, xi.xtcpi_probes, xi.xtcpi_backoff,
	       xi.xtcpi_ts_recent);
}

/* How a connection came out of the storm. */
enum outcome { USABLE, CLOSED, RESET, GONE, NOUTCOMES };

/*
 * Connection @i after the storm: usable both ways with the data intact,
 * closed by a FIN of the storm (and still sending if it may), or reset;
 * anything else fails the test.
 */
static enum outcome check_conn(struct __test_metadata *_metadata,
			       FIXTURE_DATA(fuzz) *self, unsigned int i)
{
	struct xp_conn *c = &self->c[i];
	enum outcome out;
	struct xp_seg s, r;
	int err, probe;

	if (c->fd < 0)
		return GONE;
	if (i == R_SYN_SENT && !(xtcp_wait_fd(c->fd, POLLOUT, 0) & POLLOUT)) {
		/* Still connecting: the peer answers at last. */
		xp_conn_seg(&self->p, c, &s, XP_SYN | XP_ACK);
		s.mss = 1460;
		ASSERT_EQ(0, xp_send(&self->p, &s));
		c->p_nxt++;
		xtcp_wait_fd(c->fd, POLLOUT, 3000);
	}
	/*
	 * The probes first: once their answers are in, everything the storm
	 * sent has been processed.
	 */
	probe = resync(&self->p, c, &r);
	err = xtcp_get_int(c->fd, SOL_SOCKET, SO_ERROR);
	if (err) {
		ASSERT_TRUE(err == ECONNRESET || err == EPIPE ||
			    (i == R_SYN_SENT &&
			     (err == ECONNREFUSED || err == ETIMEDOUT)))
			TH_LOG("%s: SO_ERROR %s", role_name[i], strerror(err));
		return RESET;
	}
	err = app_drain(c->fd);
	ASSERT_TRUE(err >= 0 || err == -ECONNRESET || err == -EPIPE)
		TH_LOG("%s: recv: %s", role_name[i], strerror(-err));
	if (err < 0)
		return RESET;
	out = err ? USABLE : CLOSED;
	if (out == CLOSED && i == R_FIN_WAIT2)
		return CLOSED;	/* the storm's FIN: TIME_WAIT, no more */
	if (probe == -ECONNRESET) {
		/* The kernel knows no such connection: nor may the socket. */
		ASSERT_TRUE(xtcp_wait_until(app_drain(c->fd) <= 0, 3000))
			TH_LOG("%s: the kernel resets it, the socket reads on",
			       role_name[i]);
		return RESET;
	}
	ASSERT_EQ(0, probe) TH_LOG("%s: no answer to a probe: %s",
				   role_name[i], strerror(-probe));
	if (out == USABLE) {
		err = peer_to_app(&self->p, c, 0);
		ASSERT_EQ(0, err) TH_LOG("%s: peer to application: %s",
					 role_name[i], strerror(-err));
	}
	if (i != R_FIN_WAIT2) {
		err = app_to_peer(&self->p, c, 0, r.window);
		if (err)
			log_info(_metadata, self, c->fd, &r);
		ASSERT_EQ(0, err) TH_LOG("%s: application to peer: %s",
					 role_name[i], strerror(-err));
	}
	return out;
}

/* The listener serves a new connection, handshake and data both ways. */
static void check_listener(struct __test_metadata *_metadata,
			   FIXTURE_DATA(fuzz) *self)
{
	struct sockaddr_in sin;
	socklen_t len;
	struct xp_conn lc;
	struct xp_seg s, r;
	__s64 start;
	int err, fd;

	xp_drain(&self->p);
	while ((fd = accept(self->lfd, NULL, NULL)) >= 0)
		close(fd);
	memset(&lc, 0, sizeof(lc));
	lc.pport = 60000;
	lc.kport = LPORT;
	lc.p_nxt = 5000;
	err = -ETIMEDOUT;
	/* A backlog full of the storm's SYNs empties within seconds. */
	for (start = xp_now_ms(); err && xp_now_ms() - start < 10000;) {
		xp_conn_seg(&self->p, &lc, &s, XP_SYN);
		s.mss = 1460;
		ASSERT_EQ(0, xp_send(&self->p, &s));
		err = xp_conn_expect(&self->p, &lc, &r, CTL, XP_SYN | XP_ACK,
				     1000);
	}
	ASSERT_EQ(0, err) TH_LOG("no SYN-ACK from the listener");
	ASSERT_EQ(5001U, r.ack);
	lc.p_nxt = 5001;
	lc.k_nxt = r.seq + 1;
	xp_conn_seg(&self->p, &lc, &s, XP_ACK);
	ASSERT_EQ(0, xp_send(&self->p, &s));
	lc.fd = -1;
	for (start = xp_now_ms(); lc.fd < 0 && xp_now_ms() - start < 3000;) {
		len = sizeof(sin);
		xtcp_wait_fd(self->lfd, POLLIN, 1000);
		fd = accept(self->lfd, (struct sockaddr *)&sin, &len);
		if (fd >= 0 && ntohs(sin.sin_port) == lc.pport)
			lc.fd = fd;
		else if (fd >= 0)
			close(fd);
	}
	ASSERT_LE(0, lc.fd) TH_LOG("the new connection was not accepted");
	err = peer_to_app(&self->p, &lc, 0);
	EXPECT_EQ(0, err) TH_LOG("new connection, peer to application: %s",
				 strerror(-err));
	err = app_to_peer(&self->p, &lc, 0, 0);
	EXPECT_EQ(0, err) TH_LOG("new connection, application to peer: %s",
				 strerror(-err));
	close(lc.fd);
}

/*
 * Sockets of the namespace other than TIME_WAIT entries, from
 * /proc/net/tcp or /proc/net/xtcp; the last of their lines in @buf.
 */
static int left_behind(int proto, char *buf, size_t size)
{
	char line[256];
	unsigned int st;
	int n = 0;
	FILE *f;

	f = fopen(proto == IPPROTO_XTCP ? "/proc/net/xtcp" : "/proc/net/tcp",
		  "r");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, " %*d: %*x:%*x %*x:%*x %x", &st) != 1 ||
		    st == 6)	/* TCP_TIME_WAIT */
			continue;
		snprintf(buf, size, "%s", line);
		n++;
	}
	fclose(f);
	return n;
}

/*
 * Rounds of random length (30 to 15,000 segments, about as many rounds of
 * each order of magnitude), each on fresh connections in every state and
 * checked afterwards: short rounds leave connections that must still
 * work, long ones mostly resets.
 */
TEST_F_TIMEOUT(fuzz, storm, XTCP_TIMEOUT(280))
{
	long segs = FUZZ_SEGS, csum0, err0, csum, errs, round_end;
	long tally[NROLES][NOUTCOMES] = { { 0 } };
	const char *env = getenv("XTCP_FUZZ_SEGS");
	__s64 start, storm_ms = 0, t0;
	__u8 opts[XP_MAX_OPTLEN];
	unsigned int i, rounds = 0;
	struct xp_seg s;
	char line[256];
	long len;
	int err;

	if (env)
		segs = strtol(env, NULL, 0);
	csum0 = bad_counter(variant->proto, "InCsumErrors");
	err0 = bad_counter(variant->proto, "InErrs");
	ASSERT_LE(0, csum0);
	ASSERT_LE(0, err0);

	start = xp_now_ms();
	while (self->sent < segs) {
		for (i = 0; i < NROLES; i++) {
			if (self->c[i].fd >= 0)
				close(self->c[i].fd);
			self->c[i].fd = -1;
			if (self->next_pport >= 30000)
				self->next_pport = 10000;
			err = setup_role(self, variant->proto, i);
			ASSERT_EQ(0, err) TH_LOG("round %u: %s: %s", rounds,
						 role_name[i], strerror(-err));
		}
		xp_drain(&self->p);

		len = 30 << rnd(&self->rng, 9);
		round_end = self->sent + len + rnd(&self->rng, len);
		t0 = xp_now_ms();
		while (self->sent < round_end && self->sent < segs) {
			gen_seg(self, &s, opts);
			err = fuzz_send(self, &s);
			ASSERT_EQ(0, err) TH_LOG("segment %ld: %s: %s",
						 self->sent, XP_SEG_STR(&s),
						 strerror(-err));
			if (self->sent % DRAIN_EVERY == 0)
				fuzz_drain(self);
		}
		fuzz_drain(self);
		storm_ms += xp_now_ms() - t0;

		xp_drain(&self->p);
		for (i = 0; i < NROLES; i++)
			tally[i][check_conn(_metadata, self, i)]++;
		rounds++;
	}
	TH_LOG("%s: %ld segments in %u rounds, %lld ms in all, %lld ms sending (%lld per second): %ld with a bad checksum (%ld of them with options TCP-AO parsing refuses), %ld cut short, %ld with a data offset below 5; %ld children accepted",
	       variant->proto == IPPROTO_TCP ? "TCP" : "xtcp", self->sent,
	       rounds, (long long)(xp_now_ms() - start), (long long)storm_ms,
	       (long long)(self->sent * 1000 / (storm_ms + 1)),
	       self->csum_bad, self->csum_bad_opts, self->short_hdr,
	       self->doff_low, self->accepted);
	for (i = 0; i < NROLES; i++)
		TH_LOG("%-20s usable %ld, closed %ld, reset %ld, no socket %ld",
		       role_name[i], tally[i][USABLE], tally[i][CLOSED],
		       tally[i][RESET], tally[i][GONE]);
	/* The checks above were not all skipped. */
	EXPECT_LT(0, tally[R_EST][USABLE] + tally[R_EST_TS][USABLE] +
		     tally[R_EST_SMALL][USABLE]);

	/*
	 * The counters saw the malformed segments (segments may still wait
	 * in a softirq backlog for a moment).
	 */
	xtcp_wait_until(bad_counter(variant->proto, "InCsumErrors") - csum0 >=
			self->csum_bad, 5000);
	csum = bad_counter(variant->proto, "InCsumErrors") - csum0;
	errs = bad_counter(variant->proto, "InErrs") - err0;
	TH_LOG("InCsumErrors +%ld, InErrs +%ld", csum, errs);
	if (variant->proto == IPPROTO_XTCP) {
		/* Every bad checksum, every short or broken header. */
		EXPECT_EQ(self->csum_bad, csum);
		EXPECT_LE(self->csum_bad + self->short_hdr + self->doff_low,
			  errs);
	} else {
		/*
		 * Linux TCP drops a segment for a socket whose options
		 * tcp_inbound_hash() refuses before it looks at the checksum.
		 */
		EXPECT_LE(self->csum_bad - self->csum_bad_opts, csum);
		EXPECT_GE(self->csum_bad, csum);
		EXPECT_LE(self->csum_bad - self->csum_bad_opts + self->doff_low,
			  errs);
	}

	check_listener(_metadata, self);

	/*
	 * Closed, every socket goes within its retries (short retries,
	 * short FIN_WAIT_2): none may stay behind, holding the module. An
	 * RTO grown to seconds by the storm's RTT samples, backed off three
	 * times, takes tens of seconds: allow 90.
	 */
	for (i = 0; i < NROLES; i++) {
		if (self->c[i].fd >= 0)
			close(self->c[i].fd);
		self->c[i].fd = -1;
	}
	close(self->lfd);
	self->lfd = -1;
	start = xp_now_ms();
	err = xtcp_wait_until((xp_drain(&self->p),
			       left_behind(variant->proto, line,
					   sizeof(line)) == 0), 90000);
	if (err)
		TH_LOG("every socket gone in %lld ms",
		       (long long)(xp_now_ms() - start));
	EXPECT_TRUE(err) TH_LOG("%d sockets left, such as %s",
				left_behind(variant->proto, line,
					    sizeof(line)), line);
}

/*
 * An ACK of new data whose TSecr is no echo of ours (from the future, or
 * from long ago) gives no RTT sample: the retransmission timeout stays
 * near the real round trip, and data that goes unacknowledged is resent
 * within a second or two, not after minutes.
 */
TEST_F_TIMEOUT(fuzz, bogus_tsecr_keeps_rto, XTCP_TIMEOUT(60))
{
	static const __u32 bogus[] = { 0x80000000, 0x40000000, 0xc0000000,
				       1000000 };
	struct xp_conn *c = &self->c[R_EST_TS];
	char data[100] = "x";
	struct xp_seg s, r;
	unsigned int i;
	__s64 sent;

	ASSERT_EQ(0, setup_role(self, variant->proto, R_EST_TS));
	ASSERT_TRUE(c->ts);
	for (i = 0; i < ARRAY_SIZE(bogus); i++) {
		ASSERT_EQ(100, send(c->fd, data, 100, 0));
		ASSERT_EQ(0, xp_conn_expect(&self->p, c, &r, CTL, XP_ACK,
					    3000));
		ASSERT_EQ(100U, r.len);
		c->k_nxt = r.seq + r.len;
		xp_conn_seg(&self->p, c, &s, XP_ACK);
		s.tsecr = r.tsval + bogus[i];
		ASSERT_EQ(0, xp_send(&self->p, &s));
	}
	/* Let the ACKs in, then data nobody acknowledges. */
	ASSERT_EQ(0, resync(&self->p, c, &r));
	ASSERT_EQ(c->k_nxt, r.seq);
	ASSERT_EQ(100, send(c->fd, data, 100, 0));
	ASSERT_EQ(0, xp_conn_expect(&self->p, c, &r, CTL, XP_ACK, 3000));
	sent = xp_now_ms();
	ASSERT_EQ(0, xp_conn_expect(&self->p, c, &r, CTL, XP_ACK, 5000))
		TH_LOG("no retransmission within 5 s");
	TH_LOG("retransmitted after %lld ms", (long long)(xp_now_ms() - sent));
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_EQ(100U, r.len);
}

/*
 * A peer that offered a large window now offers less than half of it,
 * and less than the data waiting: what fits goes out all the same once
 * the sender's override timeout expires (RFC 9293 3.8.6.2.1), rather
 * than never, as a storm of forged window updates can leave it.
 */
TEST_F_TIMEOUT(fuzz, small_window_still_served, XTCP_TIMEOUT(60))
{
	struct xp_conn *c = &self->c[R_EST];
	char data[CHUNK] = "x";
	struct xp_seg s, r;
	__s64 start;

	ASSERT_EQ(0, setup_role(self, variant->proto, R_EST));
	xp_conn_seg(&self->p, c, &s, XP_ACK);
	s.window = 291;
	ASSERT_EQ(0, xp_send(&self->p, &s));
	ASSERT_EQ(CHUNK, send(c->fd, data, CHUNK, 0));
	start = xp_now_ms();
	do {
		ASSERT_EQ(0, xp_conn_expect(&self->p, c, &r, CTL, XP_ACK,
					    5000))
			TH_LOG("no data into a window of 291 bytes");
	} while (!r.len);
	TH_LOG("%zu bytes after %lld ms", r.len,
	       (long long)(xp_now_ms() - start));
	EXPECT_EQ(c->k_nxt, r.seq);
	EXPECT_GE(291U, r.len);
}

TEST_HARNESS_MAIN
