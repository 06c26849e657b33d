// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* First-contact hold, included by bpf/redirect.c after its maps.
 *
 * A connection from a network namespace where the daemon has no listener
 * yet cannot be redirected there, and must never go where it was going.
 * Refusing it (EPERM) loses the request: most clients do not retry. So
 * connect4/6 send it instead to the hold address, the fixed loopback
 * address and port the daemon's listener in that namespace is about to
 * take, and airlock_hold drops its SYN on egress until the kernel knows
 * that listener. TCP retransmits the SYN (after hold_rto, set through
 * BPF_SOCK_OPS_TIMEOUT_INIT, rather than the usual second), and the first
 * retransmission after the daemon opened the listener connects.
 *
 * If the listener never comes (no daemon, or something else in the
 * namespace took the hold address first, so the daemon listens elsewhere)
 * the SYN is never let out and connect() times out: nothing reaches
 * whatever else listens there. */
#ifndef AIRLOCK_HOLD_H
#define AIRLOCK_HOLD_H

#define BPF_TCP_SYN_SENT 2

/* hold4 sends a first-contact IPv4 connection to the hold address. */
static __always_inline int hold4(struct bpf_sock_addr *ctx, struct config *cfg, __u32 orig[4])
{
	if (!cfg->hold_port || !remember(ctx, AF_INET, orig, RECORD_HELD)) {
		count_netns(NETNS_REFUSED);
		return 0;
	}
	count_netns(NETNS_HELD);
	ctx->user_ip4 = cfg->hold_v4;
	ctx->user_port = cfg->hold_port;
	return 1;
}

/* hold6 does the same from connect6: v4-mapped destinations go to the v4
 * hold address, mapped. */
static __always_inline int hold6(struct bpf_sock_addr *ctx, struct config *cfg, __u32 ip[4], int mapped)
{
	__u32 v4[4] = { ip[3], 0, 0, 0 };

	if (!cfg->hold_port || !remember(ctx, mapped ? AF_INET : AF_INET6, mapped ? v4 : ip, RECORD_HELD)) {
		count_netns(NETNS_REFUSED);
		return 0;
	}
	count_netns(NETNS_HELD);
	if (mapped) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
		ctx->user_ip6[3] = cfg->hold_v4;
	} else {
		ctx->user_ip6[0] = cfg->hold_v6[0];
		ctx->user_ip6[1] = cfg->hold_v6[1];
		ctx->user_ip6[2] = cfg->hold_v6[2];
		ctx->user_ip6[3] = cfg->hold_v6[3];
	}
	ctx->user_port = cfg->hold_port;
	return 1;
}

/* to_hold: the socket is connecting to the hold address. Its family is v4
 * (is4) when it dials the v4 hold address, mapped or not. */
static __always_inline int to_hold(struct bpf_sock *sk, struct config *cfg, int *is4)
{
	__u32 d[4] = { sk->dst_ip6[0], sk->dst_ip6[1], sk->dst_ip6[2], sk->dst_ip6[3] };

	if (!cfg->hold_port || sk->dst_port != cfg->hold_port)
		return 0;
	*is4 = 1;
	if (sk->family == AF_INET)
		return sk->dst_ip4 == cfg->hold_v4;
	if (is_v4_mapped(d))
		return d[3] == cfg->hold_v4;
	*is4 = 0;
	return d[0] == cfg->hold_v6[0] && d[1] == cfg->hold_v6[1] && d[2] == cfg->hold_v6[2] &&
	       d[3] == cfg->hold_v6[3];
}

/* listening_at_hold: the namespace's registered listener is the one at the
 * hold address (the daemon took it, not someone else). */
static __always_inline int listening_at_hold(struct netns_listener *ln, struct config *cfg, int is4)
{
	if (is4)
		return ln->port_v4 == cfg->hold_port && ln->listen_v4 == cfg->hold_v4;
	return ln->port_v6 == cfg->hold_port && ln->listen_v6[0] == cfg->hold_v6[0] &&
	       ln->listen_v6[1] == cfg->hold_v6[1] && ln->listen_v6[2] == cfg->hold_v6[2] &&
	       ln->listen_v6[3] == cfg->hold_v6[3];
}

/* airlock_hold lets a SYN to the hold address out only once the daemon's
 * listener there is registered. Everything else passes untouched; an
 * unknown socket dialling the hold address (no record, or its record
 * evicted) is dropped: it is not ours to let through. */
SEC("cgroup_skb/egress")
int airlock_hold(struct __sk_buff *skb)
{
	struct config *cfg = get_config();
	struct bpf_sock *sk = skb->sk;
	struct netns_listener *ln;
	struct record *r;
	__u64 cookie;
	int is4;

	if (!cfg || !cfg->hold_port || !sk)
		return 1;
	sk = bpf_sk_fullsock(sk);
	if (!sk || sk->state != BPF_TCP_SYN_SENT || !to_hold(sk, cfg, &is4))
		return 1;
	cookie = bpf_get_socket_cookie(skb);
	r = bpf_map_lookup_elem(&records_by_cookie, &cookie);
	if (!r)
		return 0;
	if (!(r->flags & RECORD_HELD))
		return 1; /* redirected to the listener registered at connect() */
	ln = bpf_map_lookup_elem(&netns_listeners, &r->netns_cookie);
	if (!ln || !listening_at_hold(ln, cfg, is4))
		return 0;
	count_netns(NETNS_HELD_PASSED);
	return 1;
}

/* hold_timeout shortens a held socket's first SYN retransmission. */
static __always_inline void hold_timeout(struct bpf_sock_ops *skops)
{
	struct config *cfg = get_config();
	__u64 cookie = bpf_get_socket_cookie(skops);
	struct record *r = bpf_map_lookup_elem(&records_by_cookie, &cookie);

	if (cfg && cfg->hold_rto && r && (r->flags & RECORD_HELD))
		skops->reply = cfg->hold_rto;
}

#endif
