#include "jxla/jxla.h"

extern "C" int32_t jxla_version(void) { return 1; }
