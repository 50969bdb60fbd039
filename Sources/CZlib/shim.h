// zlib (Debian: zlib1g-dev), for reading gzip-compressed candump logs.
#include <zlib.h>
