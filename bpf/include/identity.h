// SPDX-License-Identifier: (GPL-2.0-only OR BSD-2-Clause)
/* The record of a redirected connection: where it was going and who
 * dialled (ids, comm, executable, start time), kept by socket cookie until
 * sockops indexes it by the client's address. Included once, by redirect.c. */
#ifndef AIRLOCK_IDENTITY_H
#define AIRLOCK_IDENTITY_H

/* Who is calling connect(), read from the current task through CO-RE:
 * the executable's inode, device and file name, and the thread group's
 * start time. The listener compares them with /proc at accept, when the
 * caller may have exec'd another binary or exited (pid reused). */
static __always_inline void remember_identity(struct record *r)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct file *exe = BPF_CORE_READ(task, mm, exe_file);
	const unsigned char *name = BPF_CORE_READ(exe, f_path.dentry, d_name.name);

	r->exe_ino = BPF_CORE_READ(exe, f_inode, i_ino);
	r->exe_dev = BPF_CORE_READ(exe, f_inode, i_sb, s_dev);
	r->start_boottime = BPF_CORE_READ(task, group_leader, start_boottime);
	bpf_probe_read_kernel_str(r->exe_name, sizeof(r->exe_name), name);
}

/* A socket that connects again (after AF_UNSPEC or a failed attempt) must
 * not keep the record of its earlier, redirected connection: getpeername
 * would lie and sockops would index a connection we never redirected. */
static __always_inline void forget(struct bpf_sock_addr *ctx)
{
	__u64 cookie = bpf_get_socket_cookie(ctx);
	bpf_map_delete_elem(&records_by_cookie, &cookie);
}

/* Store the record by socket cookie; a full map refuses the connection
 * rather than letting it escape unattributed. */
static __always_inline int remember(struct bpf_sock_addr *ctx, __u16 family, __u32 ip[4], __u32 flags)
{
	struct record r = {};
	__u64 uidgid = bpf_get_current_uid_gid();
	__u64 cookie = bpf_get_socket_cookie(ctx);

	__builtin_memcpy(r.dst_ip, ip, 16);
	r.dst_port = (__u16)ctx->user_port;
	r.family = family;
	r.tgid = bpf_get_current_pid_tgid() >> 32;
	r.uid = (__u32)uidgid;
	r.gid = uidgid >> 32;
	r.cgroup_id = bpf_get_current_cgroup_id();
	r.netns_cookie = bpf_get_netns_cookie(ctx);
	r.ktime_ns = bpf_ktime_get_ns();
	r.flags = flags;
	bpf_get_current_comm(r.comm, sizeof(r.comm));
	remember_identity(&r);
	if (bpf_map_update_elem(&records_by_cookie, &cookie, &r, BPF_ANY)) {
		count(COUNTER_MAP_FULL);
		return 0;
	}
	count(COUNTER_REDIRECTED);
	return 1;
}

#endif
