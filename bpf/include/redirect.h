/* Shared definitions between bpf/redirect.c and its Go loader (intercept/).
 * Layouts here are mirrored by bpf2go-generated Go types: keep fields
 * naturally aligned and padding explicit. */
#pragma once

#include <linux/types.h>

#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define SOCK_DGRAM 2
#define IPPROTO_TCP 6

/* LPM keys: the port (network order) comes first so a prefix length of
 * 16 + n matches the port exactly and the first n address bits. */
struct target_v4 {
	__u32 prefixlen;
	__u16 port;
	__u8 addr[4];
};

struct target_v6 {
	__u32 prefixlen;
	__u16 port;
	__u8 addr[16];
};

/* Address-only LPM keys: the API's ranges on every port and protocol.
 * A destination in a range that is not a (prefix, port) target above is
 * refused: UDP (QUIC) and other ports would reach the API uninspected. */
struct range_v4 {
	__u32 prefixlen;
	__u8 addr[4];
};

struct range_v6 {
	__u32 prefixlen;
	__u8 addr[16];
};

/* Runtime settings, element 0 of the config array. Where to redirect to is
 * per network namespace: see struct netns_listener. */
struct config {
	__u32 mark;          /* SO_MARK of the daemon's own sockets; 0 = off */
	__u32 excluded_tgid; /* with the mark: the daemon's process; 0 = off */
	__u64 excluded_cgroup; /* with the mark: the daemon's cgroup; 0 = off */
	/* First-contact hold (bpf/include/hold.h): where a connection from a
	 * namespace without a listener yet is sent, the address the daemon's
	 * listener there will take; hold_port 0 = refuse instead. */
	__u32 hold_v6[4];    /* network order */
	__u32 hold_v4;       /* network order */
	__u16 hold_port;     /* network order */
	__u16 hold_rto;      /* jiffies: the held SYN's first retransmission */
};

struct record {
	__u32 dst_ip[4];  /* v4 in dst_ip[0] (network order) when family is AF_INET */
	__u16 dst_port;   /* network order */
	__u16 family;     /* AF_INET, or AF_INET6 (never v4-mapped: normalised) */
	__u32 tgid;
	__u32 uid;
	__u32 gid;
	__u64 cgroup_id;
	__u64 netns_cookie;
	__u64 ktime_ns;
	char comm[16];
	/* Who called connect(), as the listener checks it at accept: the
	 * executable (inode, device, file name) and the thread group's start
	 * (ns since boot), so an execve or a reused pid is noticed. */
	__u64 exe_ino;
	__u64 start_boottime;
	__u32 exe_dev; /* kernel encoding: major << 20 | minor */
	__u32 flags;   /* RECORD_HELD */
	char exe_name[32];
};

/* Client side of a redirected connection, as the listener sees its peer.
 * Every namespace has its own 127.0.0.1, so the namespace is part of it. */
/* record.flags */
#define RECORD_HELD 1 /* sent to the hold address: no listener yet */

struct peer_key {
	__u64 netns;  /* netns cookie of the client (and of the listener) */
	__u32 ip[4];  /* v4 in ip[0] when family is AF_INET (mapped normalised) */
	__u16 port;   /* host order (as sockops reports local_port) */
	__u16 family;
	__u32 _pad;
};

/* Where connections from one network namespace are redirected: the
 * daemon's listener inside that namespace (pinned, so the addresses
 * outlive the daemon and new connections fail closed). */
struct netns_listener {
	__u32 listen_v4;     /* network order */
	__u32 listen_v6[4];  /* network order */
	__u16 port_v4;       /* network order; 0 = no listener: refuse */
	__u16 port_v6;       /* network order; 0 = no listener: refuse */
};

/* First contact: a target connection from a namespace without a listener
 * was held (or refused); the daemon opens a listener there. */
struct netns_event {
	__u64 netns;
	__u64 cgroup_id;
	__u32 tgid;
	__u32 _pad;
};

enum netns_counter {
	NETNS_REFUSED = 0,  /* refused: no listener in the caller's namespace */
	NETNS_REPORT_LOST,  /* the event ring was full */
	NETNS_HELD,         /* held at first contact (sent to the hold address) */
	NETNS_HELD_PASSED,  /* a held SYN let through: its listener is open */
	NETNS_COUNTER_MAX,
};

enum counter {
	COUNTER_REDIRECTED = 0,
	COUNTER_SKIPPED,
	COUNTER_EXCLUDED,
	COUNTER_MAP_FULL,
	COUNTER_REFUSED, /* API range, but UDP or a port that is not captured */
	COUNTER_MAX,
};
