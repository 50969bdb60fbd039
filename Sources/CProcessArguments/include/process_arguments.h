#ifndef VG_PROCESS_ARGUMENTS_H
#define VG_PROCESS_ARGUMENTS_H

/// The process's argc and argv as the kernel passed them, saved before main runs. The Swift
/// runtime on Linux reads its CommandLine.arguments from /proc/self/cmdline, which a minimal
/// root without /proc does not have (the arguments are then empty).
int vg_process_argc(void);
char *const *vg_process_argv(void);

#endif
