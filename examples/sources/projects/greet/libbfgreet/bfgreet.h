#ifndef BFGREET_H
#define BFGREET_H
/* The library's version string, e.g. "1.0". */
const char *bfgreet_version(void);
#endif
