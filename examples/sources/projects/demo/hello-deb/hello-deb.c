/* hello-deb: greets someone; its options are parsed with popt (Build-Depends: libpopt-dev). */
#include <popt.h>
#include <stdio.h>
#include <stdlib.h>

#define HELLO_DEB_VERSION "1.0"

int main(int argc, const char **argv) {
  const char *name = "world";
  int show_version = 0;
  struct poptOption options[] = {
      {"name", 'n', POPT_ARG_STRING, &name, 0, "who to greet", "NAME"},
      {"version", 'V', POPT_ARG_NONE, &show_version, 0, "print the version and exit", NULL},
      POPT_AUTOHELP POPT_TABLEEND,
  };
  poptContext context = poptGetContext("hello-deb", argc, argv, options, 0);
  int rc;
  while ((rc = poptGetNextOpt(context)) > 0) {
  }
  if (rc < -1) {
    fprintf(stderr, "hello-deb: %s: %s\n", poptBadOption(context, POPT_BADOPTION_NOALIAS), poptStrerror(rc));
    poptFreeContext(context);
    return EXIT_FAILURE;
  }
  if (show_version) {
    printf("hello-deb %s (popt)\n", HELLO_DEB_VERSION);
  } else {
    printf("Hello, %s!\n", name);
  }
  poptFreeContext(context);
  return EXIT_SUCCESS;
}
