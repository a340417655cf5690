/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Helpers of the TIME_WAIT selftests (test_timewait.c, test_tw_*.c):
 * loopback listeners and clients, a connection cycle that ends in
 * TIME_WAIT, and the /proc/net/{tcp,xtcp}{,6} checks around it, over
 * IPv4 or IPv6 (the *_family() forms; the others are IPv4's). Include
 * after kselftest_harness.h and xtcp_test.h.
 */
#ifndef _XTCP_TW_H
#define _XTCP_TW_H

#define LOOPBACK	"127.0.0.1"
#define IPV4_SYSCTL	"/proc/sys/net/ipv4/"
#define LONG_MSL	600000	/* ms, the maximum: nothing expires in a test */
#define ST_ESTABLISHED	0x01
#define ST_TIME_WAIT	0x06
#define TR_TIME_WAIT	3U

static inline int ipv4_sysctl_set(const char *name, const char *val)
{
	char path[128];

	snprintf(path, sizeof(path), IPV4_SYSCTL "%s", name);
	return xtcp_write_file(path, val);
}

/* The family of the address @addr: AF_INET6 if it has a colon. */
static inline int addr_family(const char *addr)
{
	return strchr(addr, ':') ? AF_INET6 : AF_INET;
}

/*
 * A listener of @proto on @addr:@port (0: any), IPv4 or IPv6 as @addr
 * is; -errno on failure.
 */
static inline int listener(int proto, const char *addr, __u16 port)
{
	struct sockaddr_storage ss;
	int family = addr_family(addr);
	socklen_t len = xtcp_sa(family, addr, port, &ss);
	int fd, err;

	fd = socket(family, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if (xtcp_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1) ||
	    bind(fd, (struct sockaddr *)&ss, len) || listen(fd, 16)) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/*
 * A client of @proto and @family bound to @addr:@bport (0: any port; no
 * bind at all if @addr is NULL), with SO_REUSEADDR if @reuse. -errno on
 * failure.
 */
static inline int client_family(int family, int proto, const char *addr,
				__u16 bport, bool reuse)
{
	struct sockaddr_storage ss;
	socklen_t len = 0;
	int fd, err;

	if (addr) {
		len = xtcp_sa(family, addr, bport, &ss);
		if (!len)
			return -EINVAL;
	}
	fd = socket(family, SOCK_STREAM, proto);
	if (fd < 0)
		return -errno;
	if ((reuse && xtcp_set_int(fd, SOL_SOCKET, SO_REUSEADDR, 1)) ||
	    (addr && bind(fd, (struct sockaddr *)&ss, len))) {
		err = -errno;
		close(fd);
		return err;
	}
	return fd;
}

/* client_family() of IPv4. */
static inline int client(int proto, const char *addr, __u16 bport, bool reuse)
{
	return client_family(AF_INET, proto, addr, bport, reuse);
}

/* Connect @cfd to @lfd's address and accept: the accepted fd or -errno. */
static inline int connect_pair(int cfd, int lfd)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);
	int sfd;

	if (getsockname(lfd, (struct sockaddr *)&ss, &len) ||
	    connect(cfd, (struct sockaddr *)&ss, len))
		return -errno;
	sfd = accept(lfd, NULL, NULL);
	return sfd < 0 ? -errno : sfd;
}

/*
 * Close a connection active closer first: @first sends its FIN, @second
 * reads the EOF (so its close is a passive one) and closes too. Returns 0
 * or -errno.
 */
static inline int close_in_order(int first, int second)
{
	struct pollfd pfd = { .fd = second, .events = POLLIN };
	char c;

	close(first);
	if (poll(&pfd, 1, 5000) != 1 || recv(second, &c, 1, 0) != 0) {
		close(second);
		return -EIO;
	}
	close(second);
	return 0;
}

/* The TIME_WAIT lines of local port @lport toward @rport in @path. */
static inline int tw_count(const char *path, int lport, int rport)
{
	return xtcp_proc_count(path, lport, rport, ST_TIME_WAIT);
}

/*
 * The connection lport -> rport is over on this side: only a TIME_WAIT
 * entry may remain of it.
 */
static inline bool tuple_settled(const char *path, int lport, int rport)
{
	return xtcp_proc_count(path, lport, rport, -1) ==
	       tw_count(path, lport, rport);
}

/* /dev/kmsg positioned at its end, to read what is logged from now on. */
static inline int kmsg_open(void)
{
	int fd = open("/dev/kmsg", O_RDONLY | O_NONBLOCK | O_CLOEXEC);

	if (fd >= 0)
		lseek(fd, 0, SEEK_END);
	return fd;
}

/*
 * A connection from @cfd to the listener @lfd, an echo over it, then the
 * close, by the client first if @client_first, else by the server. Waits
 * until only TIME_WAIT (if anything) is left of it on both sides and
 * returns the client's port.
 */
static inline int cycle(struct __test_metadata *_metadata, const char *proc,
			int lfd, int cfd, bool client_first)
{
	int sfd, cport, sport;

	sfd = connect_pair(cfd, lfd);
	ASSERT_LE(0, sfd) TH_LOG("connect: %s", strerror(-sfd));
	cport = xtcp_local_port(cfd);
	sport = xtcp_local_port(lfd);
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	if (client_first) {
		ASSERT_EQ(0, close_in_order(cfd, sfd));
	} else {
		ASSERT_EQ(0, close_in_order(sfd, cfd));
	}
	ASSERT_TRUE(xtcp_wait_until(tuple_settled(proc, cport, sport) &&
				    tuple_settled(proc, sport, cport), 3000))
		TH_LOG("connection %d -> %d still closing", cport, sport);
	return cport;
}

/* The entry lport -> rport has lived @age_ms of its @len_ms. */
static inline bool tw_older_than(const char *proc, int lport, int rport,
				 long len_ms, long age_ms)
{
	struct xtcp_proc_entry e;

	return xtcp_proc_scan(proc, lport, rport, ST_TIME_WAIT, &e) == 1 &&
	       (long)e.when <= len_ms - age_ms;
}

/*
 * A new client of @family bound to @addr:@port (no bind if @addr is NULL)
 * with SO_REUSEADDR connects to @lfd: the accepted socket (the client in
 * *@cfd) or -errno (*@cfd closed).
 */
static inline int reconnect_family(int family, int proto, const char *addr,
				   int port, int lfd, int *cfd)
{
	int sfd;

	*cfd = client_family(family, proto, addr, port, true);
	if (*cfd < 0)
		return *cfd;
	sfd = connect_pair(*cfd, lfd);
	if (sfd < 0) {
		close(*cfd);
		*cfd = -1;
	}
	return sfd;
}

/* reconnect_family() of IPv4. */
static inline int reconnect(int proto, const char *addr, int port, int lfd,
			    int *cfd)
{
	return reconnect_family(AF_INET, proto, addr, port, lfd, cfd);
}

/*
 * Setup of the loopback fixtures: a network namespace of its own; for
 * xtcp an MSL that lets nothing expire and, unless 0, tw_reuse_delay
 * @reuse_delay_ms; a listener of @proto on the loopback address of
 * @family (127.0.0.1 or ::1) in *@lfd and its port in *@sport.
 */
static inline void tw_lo_setup_family(struct __test_metadata *_metadata,
				      int family, int proto,
				      int reuse_delay_ms, int *lfd, int *sport)
{
	int err;

	err = xp_unshare_net();
	ASSERT_EQ(0, err) TH_LOG("unshare: %s", strerror(-err));
	if (proto == IPPROTO_XTCP) {
		ASSERT_EQ(0, xtcp_sysctl_set("msl", LONG_MSL));
		if (reuse_delay_ms)
			ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay",
						     reuse_delay_ms));
	}
	*lfd = listener(proto, xtcp_lo_str(family), 0);
	ASSERT_LE(0, *lfd) TH_LOG("listener: %s", strerror(-*lfd));
	ASSERT_EQ(family, xtcp_sock_family(*lfd));
	*sport = xtcp_local_port(*lfd);
}

/* tw_lo_setup_family() of IPv4. */
static inline void tw_lo_setup(struct __test_metadata *_metadata, int proto,
			       int reuse_delay_ms, int *lfd, int *sport)
{
	tw_lo_setup_family(_metadata, AF_INET, proto, reuse_delay_ms, lfd,
			   sport);
}

/* A fresh xtcp client connected to @lfd, echoed and closed client first. */
static inline int xt_cycle(struct __test_metadata *_metadata, int lfd,
			   const char *addr, bool reuse)
{
	int cfd = client(IPPROTO_XTCP, addr, 0, reuse);

	ASSERT_LE(0, cfd) TH_LOG("client: %s", strerror(-cfd));
	return cycle(_metadata, "/proc/net/xtcp", lfd, cfd, true);
}

#endif /* _XTCP_TW_H */
