#include "bfgreet.h"

const char *bfgreet_version(void) { return BFGREET_VERSION; }
