#include <stdio.h>
#include <bfgreet.h>

int main(void) {
  printf("bfgreet using libbfgreet %s\n", bfgreet_version());
  return 0;
}
