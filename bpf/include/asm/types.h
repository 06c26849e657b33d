/* Architecture-neutral stand-in for <asm/types.h>, so bpf/redirect.c builds
 * the same on amd64 and arm64 hosts without their multiarch include dirs. */
#pragma once
#include <asm-generic/int-ll64.h>
