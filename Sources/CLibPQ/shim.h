// Debian's libpq-dev puts libpq-fe.h under /usr/include/postgresql.
#include <postgresql/libpq-fe.h>
