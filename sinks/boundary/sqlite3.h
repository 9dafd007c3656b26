/*
 * sinks/boundary/sqlite3.h - not SQLite's header: a stop at the storage
 * boundary. This folder is on the include path of the daemon's files only
 * (Makefile.am, DAEMON_CPPFLAGS), ahead of the system's, so that a daemon
 * file that includes <sqlite3.h> fails to compile. The daemon reaches
 * storage through sinks/sink.h; SQLite is the sinks/sqlite/ backend's
 * business.
 */
#error "daemon/ does not include SQLite: go through sinks/sink.h (README, Code map)"
