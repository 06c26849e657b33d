/* BPF is a 64-bit target on every host architecture. */
#pragma once
#define __BITS_PER_LONG 64
#include <asm-generic/bitsperlong.h>
