// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* Airlock capture: redirect Claude-bound TCP connections into the local
 * interceptor, remember where they were going and who dialled, and keep the
 * application's view (getpeername) unchanged. */
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_core_read.h>
#include "redirect.h"
#include "task.h"
#include "maps.h"
#include "identity.h"

char __license[] SEC("license") = "Dual BSD/GPL";

/* listener_for finds the daemon's listener in the caller's network
 * namespace. Without one the connection is held (hold.h) or refused (the
 * caller's own loopback has nothing of ours), and the daemon is told at
 * once so that it opens one there. */
static __always_inline struct netns_listener *listener_for(struct bpf_sock_addr *ctx)
{
	__u64 ns = bpf_get_netns_cookie(ctx);
	struct netns_listener *l = bpf_map_lookup_elem(&netns_listeners, &ns);
	struct netns_event *e;

	if (l)
		return l;
	e = bpf_ringbuf_reserve(&netns_events, sizeof(*e), 0);
	if (!e) {
		count_netns(NETNS_REPORT_LOST);
		return NULL;
	}
	e->netns = ns;
	e->cgroup_id = bpf_get_current_cgroup_id();
	e->tgid = bpf_get_current_pid_tgid() >> 32;
	e->_pad = 0;
	bpf_ringbuf_submit(e, 0);
	return NULL;
}

/* The daemon's own sockets: they carry the mark AND come from the daemon's
 * process or cgroup. The mark alone proves nothing: any process with
 * CAP_NET_RAW may set it. */
static __always_inline int excluded(struct bpf_sock_addr *ctx, struct config *cfg)
{
	struct bpf_sock *sk = ctx->sk;
	if (!cfg->mark || !sk || sk->mark != cfg->mark)
		return 0;
	if (cfg->excluded_tgid && (bpf_get_current_pid_tgid() >> 32) == cfg->excluded_tgid)
		return 1;
	if (cfg->excluded_cgroup && bpf_get_current_cgroup_id() == cfg->excluded_cgroup)
		return 1;
	return 0;
}

static __always_inline int in_range_v4(__u32 ip)
{
	struct range_v4 key = { .prefixlen = 32 };
	__builtin_memcpy(key.addr, &ip, 4);
	return bpf_map_lookup_elem(&ranges_v4, &key) != NULL;
}

static __always_inline int in_range_v6(__u32 ip[4])
{
	struct range_v6 key = { .prefixlen = 128 };
	__builtin_memcpy(key.addr, ip, 16);
	return bpf_map_lookup_elem(&ranges_v6, &key) != NULL;
}

static __always_inline int is_target_v4(__u32 ip, __u16 port)
{
	struct target_v4 key = { .prefixlen = 16 + 32, .port = port };
	__builtin_memcpy(key.addr, &ip, 4);
	return bpf_map_lookup_elem(&targets_v4, &key) != NULL;
}

static __always_inline int is_target_v6(struct bpf_sock_addr *ctx)
{
	struct target_v6 key = { .prefixlen = 16 + 128, .port = (__u16)ctx->user_port };
	__u32 ip[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
	__builtin_memcpy(key.addr, ip, 16);
	return bpf_map_lookup_elem(&targets_v6, &key) != NULL;
}

static __always_inline int is_v4_mapped(__u32 ip[4])
{
	return ip[0] == 0 && ip[1] == 0 && ip[2] == bpf_htonl(0x0000ffff);
}

#include "hold.h"

SEC("cgroup/connect4")
int airlock_connect4(struct bpf_sock_addr *ctx)
{
	struct config *cfg = get_config();
	struct netns_listener *ln;
	__u32 ip = ctx->user_ip4;
	__u32 orig[4] = { ip, 0, 0, 0 };

	forget(ctx);
	if (!cfg || !in_range_v4(ip)) {
		count(COUNTER_SKIPPED);
		return 1;
	}
	if (excluded(ctx, cfg)) {
		count(COUNTER_EXCLUDED);
		return 1;
	}
	if (ctx->type != SOCK_STREAM || !is_target_v4(ip, (__u16)ctx->user_port)) {
		count(COUNTER_REFUSED);
		return 0; /* UDP or another port of an API address */
	}
	ln = listener_for(ctx);
	if (!ln)
		return hold4(ctx, cfg, orig); /* first contact */
	if (!ln->port_v4 || !remember(ctx, AF_INET, orig, 0))
		return 0; /* no v4 listener or no room: refuse */
	ctx->user_ip4 = ln->listen_v4;
	ctx->user_port = ln->port_v4;
	return 1;
}

/* connect6 also sees IPv4-mapped destinations (::ffff:a.b.c.d) from
 * dual-stack sockets; those match the v4 targets and go to the v4 listener,
 * mapped. */
SEC("cgroup/connect6")
int airlock_connect6(struct bpf_sock_addr *ctx)
{
	struct config *cfg = get_config();
	__u32 ip[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };
	int mapped = is_v4_mapped(ip);
	struct netns_listener *ln;
	int target;

	forget(ctx);
	if (!cfg || !(mapped ? in_range_v4(ip[3]) : in_range_v6(ip))) {
		count(COUNTER_SKIPPED);
		return 1;
	}
	if (excluded(ctx, cfg)) {
		count(COUNTER_EXCLUDED);
		return 1;
	}
	if (mapped)
		target = is_target_v4(ip[3], (__u16)ctx->user_port);
	else
		target = is_target_v6(ctx);
	if (ctx->type != SOCK_STREAM || !target) {
		count(COUNTER_REFUSED);
		return 0;
	}
	ln = listener_for(ctx);
	if (!ln)
		return hold6(ctx, cfg, ip, mapped); /* first contact */
	if (mapped) {
		__u32 v4[4] = { ip[3], 0, 0, 0 };
		if (!ln->port_v4 || !remember(ctx, AF_INET, v4, 0))
			return 0;
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
		ctx->user_ip6[3] = ln->listen_v4;
		ctx->user_port = ln->port_v4;
		return 1;
	}
	if (!ln->port_v6 || !remember(ctx, AF_INET6, ip, 0))
		return 0;
	ctx->user_ip6[0] = ln->listen_v6[0];
	ctx->user_ip6[1] = ln->listen_v6[1];
	ctx->user_ip6[2] = ln->listen_v6[2];
	ctx->user_ip6[3] = ln->listen_v6[3];
	ctx->user_port = ln->port_v6;
	return 1;
}

/* Unconnected UDP (sendto/sendmsg with an address) to the API's ranges is
 * refused: QUIC (HTTP/3) would otherwise reach the API past the listener.
 * Connected UDP is refused by connect4/6 above. */
SEC("cgroup/sendmsg4")
int airlock_sendmsg4(struct bpf_sock_addr *ctx)
{
	if (!in_range_v4(ctx->user_ip4))
		return 1;
	count(COUNTER_REFUSED);
	return 0;
}

SEC("cgroup/sendmsg6")
int airlock_sendmsg6(struct bpf_sock_addr *ctx)
{
	__u32 ip[4] = { ctx->user_ip6[0], ctx->user_ip6[1], ctx->user_ip6[2], ctx->user_ip6[3] };

	if (!(is_v4_mapped(ip) ? in_range_v4(ip[3]) : in_range_v6(ip)))
		return 1;
	count(COUNTER_REFUSED);
	return 0;
}

/* The client side of a connection, as our listener sees its peer. */
static __always_inline void peer_key_of(struct bpf_sock_ops *skops, struct peer_key *key)
{
	key->netns = bpf_get_netns_cookie(skops);
	key->port = (__u16)skops->local_port;
	if (skops->family == AF_INET) {
		key->family = AF_INET;
		key->ip[0] = skops->local_ip4;
		return;
	}
	__u32 ip[4] = { skops->local_ip6[0], skops->local_ip6[1], skops->local_ip6[2], skops->local_ip6[3] };
	if (is_v4_mapped(ip)) {
		key->family = AF_INET;
		key->ip[0] = ip[3];
	} else {
		key->family = AF_INET6;
		__builtin_memcpy(key->ip, ip, 16);
	}
}

/* A redirected client socket that closes before our listener looked its
 * record up (reset while queued, say) must not leave it behind: whoever
 * binds that local address and port next, even outside the cgroup, would
 * be accepted under the caller's identity. */
static __always_inline void forget_closed(struct bpf_sock_ops *skops)
{
	struct peer_key key = {};
	__u64 cookie;

	if (skops->args[1] != BPF_TCP_CLOSE)
		return;
	cookie = bpf_get_socket_cookie(skops);
	peer_key_of(skops, &key);
	bpf_map_delete_elem(&records_by_peer, &key);
	bpf_map_delete_elem(&records_by_cookie, &cookie);
}

/* Once the redirected connection is established, index its record by the
 * client's local address and port: that is the peer our listener accepts.
 * Its state changes are followed from then on (forget_closed). */
SEC("sockops")
int airlock_sockops(struct bpf_sock_ops *skops)
{
	struct peer_key key = {};
	struct record *r;
	__u64 cookie;

	if (skops->op == BPF_SOCK_OPS_STATE_CB) {
		forget_closed(skops);
		return 1;
	}
	if (skops->op == BPF_SOCK_OPS_TIMEOUT_INIT) {
		hold_timeout(skops);
		return 1;
	}
	if (skops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		return 1;
	cookie = bpf_get_socket_cookie(skops);
	r = bpf_map_lookup_elem(&records_by_cookie, &cookie);
	if (!r)
		return 1;
	bpf_sock_ops_cb_flags_set(skops, skops->bpf_sock_ops_cb_flags | BPF_SOCK_OPS_STATE_CB_FLAG);
	peer_key_of(skops, &key);
	if (bpf_map_update_elem(&records_by_peer, &key, r, BPF_ANY))
		count(COUNTER_MAP_FULL);
	return 1;
}

static __always_inline struct record *record_of(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	return bpf_map_lookup_elem(&records_by_cookie, &cookie);
}

SEC("cgroup/getpeername4")
int airlock_getpeername4(struct bpf_sock_addr *ctx)
{
	struct record *r = record_of(ctx);

	if (r && r->family == AF_INET) {
		ctx->user_ip4 = r->dst_ip[0];
		ctx->user_port = r->dst_port;
	}
	return 1;
}

SEC("cgroup/getpeername6")
int airlock_getpeername6(struct bpf_sock_addr *ctx)
{
	struct record *r = record_of(ctx);

	if (!r)
		return 1;
	if (r->family == AF_INET) {
		ctx->user_ip6[0] = 0;
		ctx->user_ip6[1] = 0;
		ctx->user_ip6[2] = bpf_htonl(0x0000ffff);
		ctx->user_ip6[3] = r->dst_ip[0];
	} else {
		ctx->user_ip6[0] = r->dst_ip[0];
		ctx->user_ip6[1] = r->dst_ip[1];
		ctx->user_ip6[2] = r->dst_ip[2];
		ctx->user_ip6[3] = r->dst_ip[3];
	}
	ctx->user_port = r->dst_port;
	return 1;
}
