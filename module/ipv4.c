// SPDX-License-Identifier: GPL-2.0
/*
 * IPv4 registration: the socket switch entry that makes
 * socket(AF_INET, SOCK_STREAM, proto) create an xtcp socket, and the IP
 * protocol handler that receives segments.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/skbuff.h>
#include <net/protocol.h>
#include <net/xfrm.h>

#include "xtcp.h"

static int xtcp_v4_err(struct sk_buff *skb, u32 info)
{
	return 0;
}

static const struct net_protocol xtcp_v4_protocol = {
	.handler = xtcp_v4_rcv,
	.err_handler = xtcp_v4_err,
	.no_policy = 1,
	.icmp_strict_tag_validation = 1,
};

static struct inet_protosw xtcp_v4_protosw = {
	.type = SOCK_STREAM,
	.prot = &xtcp_prot,
	.ops = &xtcp_stream_ops,
};

/**
 * xtcp_v4_init() - register xtcp with IPv4
 *
 * The protocol handler goes first: inet_add_protocol() is the one
 * registration that fails when another module already owns the number,
 * while inet_register_protosw() would silently shadow its socket switch.
 *
 * Context: module init, process context.
 * Return: 0, -EBUSY when the protocol number is taken, or another errno.
 */
int xtcp_v4_init(void)
{
	int err;

	err = proto_register(&xtcp_prot, 1);
	if (err)
		return err;

	if (inet_add_protocol(&xtcp_v4_protocol, xtcp_protocol) < 0) {
		pr_err("IP protocol %d is already registered by another module\n",
		       xtcp_protocol);
		err = -EBUSY;
		goto err_proto;
	}

	xtcp_v4_protosw.protocol = xtcp_protocol;
	inet_register_protosw(&xtcp_v4_protosw);
	return 0;

err_proto:
	proto_unregister(&xtcp_prot);
	return err;
}

/**
 * xtcp_v4_exit() - undo xtcp_v4_init()
 *
 * Context: module exit, process context. No xtcp socket exists (each holds
 * a module reference), so nothing can reach the handlers afterwards.
 */
void xtcp_v4_exit(void)
{
	inet_unregister_protosw(&xtcp_v4_protosw);
	inet_del_protocol(&xtcp_v4_protocol, xtcp_protocol);
	proto_unregister(&xtcp_prot);
}
