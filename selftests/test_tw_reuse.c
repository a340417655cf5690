// SPDX-License-Identifier: GPL-2.0
/*
 * TIME_WAIT (Documentation/xtcp.rst, "TIME_WAIT"): reuse of a 4-tuple held in
 * TIME_WAIT by connect(): net.xtcp.tw_reuse (off, on, loopback only),
 * tw_reuse_delay, the need for timestamps, bound and ephemeral ports.
 * Ephemeral port reuse runs on Linux TCP as well, over IPv4 and over IPv6
 * (TCP6 the oracle); the rest is xtcp's, over IPv4.
 * Every test runs in a network namespace of its own.
 */

#include <sched.h>
#include <signal.h>
#include <sys/wait.h>
#include <linux/if_link.h>
#include <linux/rtnetlink.h>
#include <linux/veth.h>

/*
 * The harness's wrapper around each test keeps its fork() result in a
 * local across the setjmp() that ASSERT_*() return to; once a test body is
 * inlined there, GCC warns that it might be clobbered. Should it be, a
 * failed assertion still fails the test (the process aborts).
 */
#pragma GCC diagnostic ignored "-Wclobbered"

#include "kselftest_harness.h"
#include "xtcp_peer.h"
#include "xtcp_test.h"
#include "xtcp_tw.h"

#define VETH_A		"10.0.1.1"	/* this namespace, on a veth */
#define VETH_B		"10.0.1.2"	/* the other end, another namespace */

/* ---- xtcp only, over loopback ----------------------------------------- */

FIXTURE(xt) {
	int lfd;
	int sport;
};

FIXTURE_SETUP(xt)
{
	tw_lo_setup(_metadata, IPPROTO_XTCP, 0, &self->lfd, &self->sport);
}

FIXTURE_TEARDOWN(xt)
{
	close(self->lfd);
}

/*
 * A client bound to port P reconnects to the same server after closing
 * first. bind() itself needs SO_REUSEADDR on the old and the new socket
 * while P is held in TIME_WAIT (as in TCP, see bind_needs_reuseaddr);
 * connect() then needs tw_reuse: refused with 0, granted with 1, and the
 * new connection works.
 */
TEST_F(xt, reuse_bound_port)
{
	int cfd, sfd, port;
	long reused;

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 0));
	port = xt_cycle(_metadata, self->lfd, LOOPBACK, true);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port,
						  self->sport, 2 * LONG_MSL,
						  20),
				    2000));
	reused = xtcp_counter("TWReused");

	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, self->sport));
	EXPECT_EQ(reused, xtcp_counter("TWReused"));

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(port, xtcp_local_port(cfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	EXPECT_EQ(0, tw_count("/proc/net/xtcp", port, self->sport));
	EXPECT_EQ(1, xtcp_proc_scan("/proc/net/xtcp", port, self->sport,
				    ST_ESTABLISHED, NULL));
	close(cfd);
	close(sfd);
}

/* tw_reuse=2 means loopback only: 127.0.0.1 qualifies. */
TEST_F(xt, reuse_loopback_mode_on_lo)
{
	int cfd, sfd, port;
	long reused;

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 2));
	port = xt_cycle(_metadata, self->lfd, LOOPBACK, true);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port,
						  self->sport, 2 * LONG_MSL,
						  20),
				    2000));
	reused = xtcp_counter("TWReused");
	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	close(cfd);
	close(sfd);
}

/* Append attribute @type (@len bytes of @data) to @nh; the attribute. */
static struct rtattr *nl_attr(struct nlmsghdr *nh, int type, const void *data,
			      size_t len)
{
	struct rtattr *rta;

	rta = (struct rtattr *)((char *)nh + NLMSG_ALIGN(nh->nlmsg_len));
	rta->rta_type = type;
	rta->rta_len = RTA_LENGTH(len);
	if (len)
		memcpy(RTA_DATA(rta), data, len);
	nh->nlmsg_len = NLMSG_ALIGN(nh->nlmsg_len) + RTA_ALIGN(rta->rta_len);
	return rta;
}

/* End the nested attribute @rta: it holds everything added after it. */
static void nl_nest_end(struct nlmsghdr *nh, struct rtattr *rta)
{
	rta->rta_len = (char *)nh + nh->nlmsg_len - (char *)rta;
}

/*
 * A veth pair over rtnetlink: veth0 here, veth1 in the network namespace
 * of process @pid. 0 or -errno.
 */
static int veth_add(pid_t pid)
{
	struct {
		struct nlmsghdr nh;
		struct ifinfomsg ifi;
		char attrs[256];
	} req = {
		.nh.nlmsg_len = NLMSG_LENGTH(sizeof(struct ifinfomsg)),
		.nh.nlmsg_type = RTM_NEWLINK,
		.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_CREATE | NLM_F_EXCL |
				  NLM_F_ACK,
		.ifi.ifi_family = AF_UNSPEC,
	};
	union {
		struct nlmsghdr nh;
		char buf[512];
	} ans;
	struct ifinfomsg peer_ifi = { .ifi_family = AF_UNSPEC };
	struct rtattr *linkinfo, *data, *peer;
	__u32 nspid = pid;
	ssize_t n;
	int fd;

	nl_attr(&req.nh, IFLA_IFNAME, "veth0", sizeof("veth0"));
	linkinfo = nl_attr(&req.nh, IFLA_LINKINFO, NULL, 0);
	nl_attr(&req.nh, IFLA_INFO_KIND, "veth", sizeof("veth"));
	data = nl_attr(&req.nh, IFLA_INFO_DATA, NULL, 0);
	peer = nl_attr(&req.nh, VETH_INFO_PEER, &peer_ifi, sizeof(peer_ifi));
	nl_attr(&req.nh, IFLA_IFNAME, "veth1", sizeof("veth1"));
	nl_attr(&req.nh, IFLA_NET_NS_PID, &nspid, sizeof(nspid));
	nl_nest_end(&req.nh, peer);
	nl_nest_end(&req.nh, data);
	nl_nest_end(&req.nh, linkinfo);

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	if (fd < 0)
		return -errno;
	n = send(fd, &req, req.nh.nlmsg_len, 0);
	if (n >= 0)
		n = recv(fd, &ans, sizeof(ans), 0);
	if (n < 0)
		n = -errno;
	close(fd);
	if (n < 0)
		return n;
	if (n < (ssize_t)NLMSG_LENGTH(sizeof(struct nlmsgerr)) ||
	    ans.nh.nlmsg_type != NLMSG_ERROR)
		return -EPROTO;
	return ((struct nlmsgerr *)NLMSG_DATA(&ans.nh))->error;
}

/*
 * A second network namespace joined to this one by a veth pair, VETH_A
 * here and VETH_B there. Returns a descriptor of the other namespace or
 * -errno.
 */
static int veth_peer_ns(void)
{
	struct sockaddr_in a = xtcp_sin(VETH_A, 0), b = xtcp_sin(VETH_B, 0);
	int pipefd[2], nsfd = -1, here = -1, err = 0;
	char path[64], c = 0;
	pid_t pid;

	/* A child makes the namespace and holds it until we have it. */
	if (pipe(pipefd))
		return -errno;
	pid = fork();
	if (pid < 0)
		return -errno;
	if (!pid) {
		close(pipefd[0]);
		c = unshare(CLONE_NEWNET) ? 'e' : 'k';
		if (write(pipefd[1], &c, 1) == 1)
			pause();
		_exit(0);
	}
	close(pipefd[1]);
	if (read(pipefd[0], &c, 1) != 1 || c != 'k')
		err = -ECHILD;
	close(pipefd[0]);
	snprintf(path, sizeof(path), "/proc/%d/ns/net", pid);
	if (!err) {
		nsfd = open(path, O_RDONLY | O_CLOEXEC);
		if (nsfd < 0)
			err = -errno;
	}
	if (!err)
		err = veth_add(pid);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	if (!err)
		err = xp_ifaddr_up("veth0", &a.sin_addr);
	if (!err) {
		here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
		if (here < 0 || setns(nsfd, CLONE_NEWNET))
			err = -errno;
	}
	if (!err)
		err = xp_ifaddr_up("lo", NULL) ?:
		      xp_ifaddr_up("veth1", &b.sin_addr);
	if (here >= 0 && setns(here, CLONE_NEWNET) && !err)
		err = -errno;
	if (here >= 0)
		close(here);
	if (err && nsfd >= 0)
		close(nsfd);
	return err ? err : nsfd;
}

/*
 * tw_reuse=2 refuses a 4-tuple between two non-loopback addresses (here a
 * veth between two namespaces); tw_reuse=1 grants it.
 */
TEST_F(xt, reuse_loopback_mode_on_veth)
{
	int nsb, here, lfd, cfd, sfd, port, sport;
	long reused;

	nsb = veth_peer_ns();
	ASSERT_LE(0, nsb) TH_LOG("veth: %s", strerror(-nsb));
	here = open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
	ASSERT_LE(0, here);
	ASSERT_EQ(0, setns(nsb, CLONE_NEWNET));
	lfd = listener(IPPROTO_XTCP, VETH_B, 0);
	ASSERT_EQ(0, setns(here, CLONE_NEWNET));
	ASSERT_LE(0, lfd) TH_LOG("listener there: %s", strerror(-lfd));
	sport = xtcp_local_port(lfd);

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 2));
	cfd = client(IPPROTO_XTCP, VETH_A, 0, true);
	ASSERT_LE(0, cfd);
	port = cycle(_metadata, "/proc/net/xtcp", lfd, cfd, true);
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port, sport,
						  2 * LONG_MSL, 20), 2000));
	reused = xtcp_counter("TWReused");

	sfd = reconnect(IPPROTO_XTCP, VETH_A, port, lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, sport));

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	sfd = reconnect(IPPROTO_XTCP, VETH_A, port, lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(reused + 1, xtcp_counter("TWReused"));
	close(cfd);
	close(sfd);
	close(lfd);
	close(here);
	close(nsb);
}

/* No reuse of an entry whose connection did not use timestamps. */
TEST_F(xt, reuse_needs_timestamps)
{
	struct xtcp_info info;
	socklen_t len = sizeof(info);
	int cfd, sfd, port;
	long reused;

	ASSERT_EQ(0, xtcp_sysctl_set("timestamps", 0));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 1));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	cfd = client(IPPROTO_XTCP, LOOPBACK, 0, true);
	ASSERT_LE(0, cfd);
	sfd = connect_pair(cfd, self->lfd);
	ASSERT_LE(0, sfd);
	port = xtcp_local_port(cfd);
	ASSERT_EQ(0, getsockopt(cfd, SOL_XTCP, XTCP_INFO, &info, &len));
	EXPECT_FALSE(info.xtcpi_options & XTCPI_OPT_TIMESTAMPS);
	ASSERT_EQ(0, close_in_order(cfd, sfd));
	ASSERT_TRUE(xtcp_wait_until(tw_older_than("/proc/net/xtcp", port,
						  self->sport, 2 * LONG_MSL,
						  20),
				    2000));
	reused = xtcp_counter("TWReused");

	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, self->sport));
	EXPECT_EQ(reused, xtcp_counter("TWReused"));
	if (sfd >= 0) {
		close(cfd);
		close(sfd);
	}
}

/* An entry younger than tw_reuse_delay is not reused; once older it is. */
TEST_F(xt, reuse_waits_for_delay)
{
	int cfd, sfd, port;
	__s64 t0;

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 5000));
	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse", 1));
	port = xt_cycle(_metadata, self->lfd, LOOPBACK, true);
	sfd = reconnect(IPPROTO_XTCP, LOOPBACK, port, self->lfd, &cfd);
	EXPECT_EQ(-EADDRNOTAVAIL, sfd);
	/* ... and that attempt was made inside the 5 s. */
	EXPECT_FALSE(tw_older_than("/proc/net/xtcp", port, self->sport,
				   2 * LONG_MSL, 4000));
	EXPECT_EQ(1, tw_count("/proc/net/xtcp", port, self->sport));

	ASSERT_EQ(0, xtcp_sysctl_set("tw_reuse_delay", 200));
	t0 = xp_now_ms();
	ASSERT_TRUE(xtcp_wait_until((sfd = reconnect(IPPROTO_XTCP, LOOPBACK,
						     port, self->lfd,
						     &cfd)) >= 0, 3000))
		TH_LOG("still refused: %s", strerror(-sfd));
	TH_LOG("reused %lld ms after lowering the delay to 200 ms",
	       (long long)(xp_now_ms() - t0));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	close(cfd);
	close(sfd);
}

/* ---- TCP and xtcp over loopback --------------------------------------- */

FIXTURE(lo) {
	int lfd;
	int sport;
};

FIXTURE_VARIANT(lo) {
	int proto;
	int family;
	const char *proc;
	const char *reuse_knob;
	int reuse_wait_ms;	/* when a reusable entry surely is reusable */
};

/*
 * Over 127.0.0.1 and over ::1 (TCP6 the oracle: net.ipv4.tcp_tw_reuse
 * serves both families, as net.xtcp.tw_reuse does).
 */
FIXTURE_VARIANT_ADD(lo, tcp) {
	.proto = IPPROTO_TCP,
	.family = AF_INET,
	.proc = "/proc/net/tcp",
	.reuse_knob = IPV4_SYSCTL "tcp_tw_reuse",
	/* Linux 6.12: one second after the last timestamp, in seconds. */
	.reuse_wait_ms = 2100,
};

FIXTURE_VARIANT_ADD(lo, xtcp) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET,
	.proc = "/proc/net/xtcp",
	.reuse_knob = XTCP_SYSCTL_DIR "tw_reuse",
	.reuse_wait_ms = 200,	/* tw_reuse_delay=20 below */
};

FIXTURE_VARIANT_ADD(lo, tcp6) {
	.proto = IPPROTO_TCP,
	.family = AF_INET6,
	.proc = "/proc/net/tcp6",
	.reuse_knob = IPV4_SYSCTL "tcp_tw_reuse",
	.reuse_wait_ms = 2100,
};

FIXTURE_VARIANT_ADD(lo, xtcp6) {
	.proto = IPPROTO_XTCP,
	.family = AF_INET6,
	.proc = "/proc/net/xtcp6",
	.reuse_knob = XTCP_SYSCTL_DIR "tw_reuse",
	.reuse_wait_ms = 200,
};

FIXTURE_SETUP(lo)
{
	tw_lo_setup_family(_metadata, variant->family, variant->proto, 20,
			   &self->lfd, &self->sport);
}

FIXTURE_TEARDOWN(lo)
{
	close(self->lfd);
}

/*
 * With a single ephemeral port, a second connection to the same server
 * after an active close needs that port's TIME_WAIT 4-tuple: refused while
 * reuse is off (even once the entry is old enough), granted once it is on.
 */
TEST_F(lo, ephemeral_port_reuse)
{
	int cfd, sfd, port;
	__s64 end;
	long fails;

	ASSERT_EQ(0, ipv4_sysctl_set("ip_local_port_range", "40000 40000"));
	ASSERT_EQ(0, xtcp_write_file(variant->reuse_knob, "0"));
	cfd = client_family(variant->family, variant->proto, NULL, 0, false);
	ASSERT_LE(0, cfd);
	port = cycle(_metadata, variant->proc, self->lfd, cfd, true);
	ASSERT_EQ(40000, port);
	ASSERT_EQ(1, tw_count(variant->proc, port, self->sport));

	fails = xtcp_proto_counter(variant->proto, "AttemptFails");
	ASSERT_LE(0, fails);
	end = xp_now_ms() + variant->reuse_wait_ms;
	do {
		sfd = reconnect_family(variant->family, variant->proto, NULL,
				       0, self->lfd, &cfd);
		ASSERT_EQ(-EADDRNOTAVAIL, sfd);
		usleep(20000);
	} while (xp_now_ms() < end);
	/* A connect() that fails itself is not a failed attempt. */
	EXPECT_EQ(fails, xtcp_proto_counter(variant->proto, "AttemptFails"));

	ASSERT_EQ(0, xtcp_write_file(variant->reuse_knob, "1"));
	sfd = reconnect_family(variant->family, variant->proto, NULL, 0,
			       self->lfd, &cfd);
	ASSERT_LE(0, sfd) TH_LOG("reuse refused: %s", strerror(-sfd));
	EXPECT_EQ(40000, xtcp_local_port(cfd));
	EXPECT_EQ(0, xtcp_echo(cfd, sfd));
	EXPECT_EQ(0, tw_count(variant->proc, port, self->sport));
	close(cfd);
	close(sfd);
}

TEST_HARNESS_MAIN
