// SPDX-License-Identifier: GPL-2.0
/*
 * Socket calls: the struct proto and struct proto_ops of xtcp.
 *
 * The connection machinery is not built yet: every call that needs it
 * answers -EOPNOTSUPP, so an application learns at once that the socket
 * cannot carry data rather than blocking or failing later.
 */

#include <linux/module.h>
#include <linux/net.h>
#include <linux/poll.h>
#include <net/inet_common.h>
#include <net/ip.h>
#include <net/sock.h>

#include "xtcp.h"

static int xtcp_init_sock(struct sock *sk)
{
	sk->sk_state = TCP_CLOSE;
	return 0;
}

static void xtcp_close(struct sock *sk, long timeout)
{
	sk_common_release(sk);
}

static int xtcp_bind(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	return -EOPNOTSUPP;
}

static int xtcp_connect(struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	return -EOPNOTSUPP;
}

static int xtcp_disconnect(struct sock *sk, int flags)
{
	return -EOPNOTSUPP;
}

static struct sock *xtcp_accept(struct sock *sk, struct proto_accept_arg *arg)
{
	arg->err = -EOPNOTSUPP;
	return NULL;
}

static int xtcp_sendmsg(struct sock *sk, struct msghdr *msg, size_t len)
{
	return -EOPNOTSUPP;
}

static int xtcp_recvmsg(struct sock *sk, struct msghdr *msg, size_t len,
			int flags, int *addr_len)
{
	return -EOPNOTSUPP;
}

static int xtcp_setsockopt(struct sock *sk, int level, int optname,
			   sockptr_t optval, unsigned int optlen)
{
	if (level != SOL_XTCP)
		return ip_setsockopt(sk, level, optname, optval, optlen);
	return -ENOPROTOOPT;
}

static int xtcp_getsockopt(struct sock *sk, int level, int optname,
			   char __user *optval, int __user *optlen)
{
	if (level != SOL_XTCP)
		return ip_getsockopt(sk, level, optname, optval, optlen);
	return -ENOPROTOOPT;
}

static int xtcp_hash(struct sock *sk)
{
	return 0;
}

static void xtcp_unhash(struct sock *sk)
{
}

struct proto xtcp_prot = {
	.name = "XTCP",
	.owner = THIS_MODULE,
	.init = xtcp_init_sock,
	.close = xtcp_close,
	.bind = xtcp_bind,
	.connect = xtcp_connect,
	.disconnect = xtcp_disconnect,
	.accept = xtcp_accept,
	.sendmsg = xtcp_sendmsg,
	.recvmsg = xtcp_recvmsg,
	.setsockopt = xtcp_setsockopt,
	.getsockopt = xtcp_getsockopt,
	.hash = xtcp_hash,
	.unhash = xtcp_unhash,
	.no_autobind = true,
	.obj_size = sizeof(struct xtcp_sock),
};

static __poll_t xtcp_poll(struct file *file, struct socket *sock,
			  poll_table *wait)
{
	struct sock *sk = sock->sk;

	sock_poll_wait(file, sock, wait);

	/* An unconnected stream socket, as tcp_poll() reports it. */
	if (sk->sk_state == TCP_CLOSE)
		return EPOLLOUT | EPOLLWRNORM | EPOLLHUP;
	return 0;
}

static int xtcp_listen(struct socket *sock, int backlog)
{
	return -EOPNOTSUPP;
}

const struct proto_ops xtcp_stream_ops = {
	.family = PF_INET,
	.owner = THIS_MODULE,
	.release = inet_release,
	.bind = inet_bind,
	.connect = inet_stream_connect,
	.socketpair = sock_no_socketpair,
	.accept = inet_accept,
	.getname = inet_getname,
	.poll = xtcp_poll,
	.ioctl = inet_ioctl,
	.gettstamp = sock_gettstamp,
	.listen = xtcp_listen,
	.shutdown = inet_shutdown,
	.setsockopt = sock_common_setsockopt,
	.getsockopt = sock_common_getsockopt,
	.sendmsg = inet_sendmsg,
	.recvmsg = inet_recvmsg,
	.mmap = sock_no_mmap,
};
