#include "process_arguments.h"

static int saved_argc;
static char *const *saved_argv;

// glibc calls the functions in .init_array with (argc, argv, envp).
static void save_arguments(int argc, char **argv, char **envp) {
    (void)envp;
    saved_argc = argc;
    saved_argv = argv;
}

__attribute__((section(".init_array"), used)) static void (*const vg_save_arguments)(int, char **, char **) = save_arguments;

int vg_process_argc(void) { return saved_argc; }
char *const *vg_process_argv(void) { return saved_argv; }
