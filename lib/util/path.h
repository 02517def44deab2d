#ifndef CPGO_PATH_H
#define CPGO_PATH_H

/*
 * Finding programs the way execvp and posix_spawnp do, so that what cpgo
 * checks or reports is the file the exec will run.
 */

#include "util/buf.h"

/* execvp's search list when PATH is unset (glibc's confstr(_CS_PATH) value). */
#define CPGO_PATH_DEFAULT "/bin:/usr/bin"

/*
 * Finds the executable `name`: a name with a '/' is taken as it is, else
 * each directory of $PATH is tried in order (an empty entry is the current
 * directory). Returns 1 with the path in `out`, 0 when there is none
 * (nothing recorded), -1 on error.
 */
int cpgo_path_lookup(const char *name, struct cpgo_buf *out);

/* The last component of `path` (after its last '/'). */
const char *cpgo_path_basename(const char *path);

/*
 * Removes a private temporary directory and the files in it (one level:
 * the ones cpgo's own directories hold); best effort, for cleanup paths.
 */
void cpgo_path_remove_tmpdir(const char *dir);

/* A regular file that this process may execute. */
int cpgo_path_is_executable(const char *path);

#endif
