package intercept

// `make generate` sets BPF_CLANG (Debian's clang 14). bpf2go strips DWARF
// paths and the compiler ident, so regenerating is byte-for-byte reproducible.
//go:generate go tool bpf2go -cc $BPF_CLANG -target bpfel -type record -type peer_key -type config -type target_v4 -type target_v6 -type range_v4 -type range_v6 -type netns_listener -go-package intercept redirect ../bpf/redirect.c -- -I../bpf/include -O2 -Wall -Werror
