/* The few kernel structures bpf/redirect.c reads to identify the caller at
 * connect(), declared with only the fields it reads. preserve_access_index
 * makes every access a CO-RE relocation: the loader fixes the offsets
 * against the running kernel's BTF, so no vmlinux.h is needed. */
#pragma once

#include <linux/types.h>

#define __core __attribute__((preserve_access_index))

struct super_block {
	__u32 s_dev; /* dev_t, kernel encoding: major << 20 | minor */
} __core;

struct inode {
	unsigned long i_ino;
	struct super_block *i_sb;
} __core;

struct qstr {
	const unsigned char *name;
} __core;

struct dentry {
	struct qstr d_name;
} __core;

struct path {
	struct dentry *dentry;
} __core;

struct file {
	struct path f_path;
	struct inode *f_inode;
} __core;

struct mm_struct {
	struct file *exe_file;
} __core;

struct task_struct {
	struct mm_struct *mm;
	struct task_struct *group_leader;
	__u64 start_boottime; /* what /proc/<pid>/stat's starttime is made of */
} __core;
