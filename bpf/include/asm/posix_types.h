/* Architecture-neutral stand-in (see asm/types.h). */
#pragma once
#include <asm-generic/posix_types.h>
