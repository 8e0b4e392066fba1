#include <sqlite3.h>

// sqlite3_config is variadic, which Swift cannot call: these wrap the calls the store makes.

// Turns off SQLite's memory statistics before the library initializes. They are on by default and take a global
// mutex around every allocation SQLite makes (about 3 % of a writer's CPU under load, measured with perf); nothing
// here reads them. Returns SQLITE_MISUSE, harmlessly, once the library is initialized.
static inline int statehouse_sqlite3_disable_memory_statistics(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}
