/*
 * datasette_plugin.h: the plugin ABI of datasette-rs, for plugins written in C (or any
 * language that can export C functions and lay out C structs).
 *
 * This header mirrors crates/plugin-api/src/abi.rs field for field; the test
 * crates/plugin-api/tests/c_header.rs compiles it against the Rust layout, so the two cannot
 * drift apart unnoticed.
 *
 * A plugin library exports one symbol, datasette_plugin_entry_v2, returning its static
 * DatasettePluginTable. The host reads the table, compares its layout with its own, calls
 * set_host once with its own DatasetteHostTable and the handle that names the plugin in every
 * service call, then startup, then the hooks.
 *
 * What crosses the boundary:
 * - Messages are UTF-8 JSON, in and out. A message with a body (`handle`'s Request, and the
 *   Response that `handle`, `render_output` and `forbidden` answer) is the JSON object with the
 *   body's bytes right after its closing brace; a Response written by hand may instead give a
 *   text body as its "body" field.
 * - Messages otherwise are UTF-8 JSON, in and out. Their shapes (Request, Response, PermissionCheck,
 *   QueryRequest, ...) are the serde structs of crates/plugin-api/src/messages.rs; unknown
 *   fields are to be ignored and missing ones take their defaults, so either side may be newer.
 * - Whoever allocates a buffer frees it. The host hands every buffer a plugin put in *out back
 *   to the plugin's free_buf; a plugin hands every buffer the host gave it back to
 *   host->free_buf. Never free() a host buffer, never expect the host to free() a plugin's.
 * - Nothing may unwind across the boundary: no C++ exception, no longjmp out of a hook.
 * - The tables only grow at their end, and header.struct_size says how much of a table there
 *   is: check the host's struct_size before calling a service added after this header.
 * - Each table's `layout` is DATASETTE_LAYOUT as its side was built: the host refuses a
 *   plugin whose layout differs from its own other than by hooks or services added at the end.
 * - A breaking change is a new entry symbol (datasette_plugin_entry_v3).
 * - Hooks may be called from several threads at once.
 */
#ifndef DATASETTE_PLUGIN_H
#define DATASETTE_PLUGIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "DSRSPLUG" read as a big-endian integer: the first field of every table, so a stray symbol
 * is not taken for a plugin. */
#define DATASETTE_MAGIC UINT64_C(0x44535253504C5547)
#define DATASETTE_ABI_VERSION UINT32_C(2)
/* The one symbol a plugin library exports (declared at the end of this file). */
#define DATASETTE_ENTRY_SYMBOL "datasette_plugin_entry_v2"
/* The tables and messages this header describes (abi.rs `LAYOUT`): a plugin's `layout`. */
#define DATASETTE_LAYOUT \
    "messages 2; " \
    "plugin table: header(u64,u32,u32) layout(bytes) sdk_version(bytes) name(bytes) " \
    "version(bytes) unwinds(bool) free_buf(fn) set_host(fn) startup(fn) routes(fn?) " \
    "handle(fn?) actor_from_request(fn?) permission_allowed(fn?) menu_links(fn?) " \
    "extra_css_urls(fn?) extra_js_urls(fn?) extra_body_script(fn?) table_actions(fn?) " \
    "database_actions(fn?) row_actions(fn?) forbidden(fn?) prepare_connection(fn?) " \
    "call_function(fn?) render_cell(fn?) register_output_renderer(fn?) render_output(fn?) " \
    "ready(fn?) permission_allowed_many(fn?) extra_template_vars(fn?) votes_follow_queries(fn?) " \
    "actor_headers(fn?); " \
    "host table: header(u64,u32,u32) layout(bytes) free_buf(fn) log(fn) fetch(fn?) " \
    "query(fn?) permission_allowed(fn?) databases(fn?) execute_write(fn?) insert_rows(fn?) " \
    "sign(fn?) unsign(fn?)"
/* The version of datasette-plugin-api this header is part of: a plugin's `sdk_version`. */
#define DATASETTE_SDK_VERSION "0.2.0"

/* A call went well: the output buffer holds the answer as JSON. */
#define DATASETTE_STATUS_OK 0
/* The call failed: the output buffer holds the message (UTF-8 text). */
#define DATASETTE_STATUS_ERROR 1
/* The callee panicked: the output buffer holds the panic message. (Rust plugins; a C plugin
 * answers DATASETTE_STATUS_ERROR when something goes wrong.) */
#define DATASETTE_STATUS_PANIC 2

typedef struct DatasetteHeader {
    uint64_t magic;       /* DATASETTE_MAGIC */
    uint32_t abi_version; /* DATASETTE_ABI_VERSION */
    uint32_t struct_size; /* sizeof the whole table this header starts */
} DatasetteHeader;

/* Borrowed bytes, valid for the duration of one call. When len is 0, ptr may be NULL or
 * any other value: do not read through it. */
typedef struct DatasetteBytes {
    const uint8_t *ptr;
    size_t len;
} DatasetteBytes;

/* Bytes from a static string literal, for a table's name and version. */
#define DATASETTE_STATIC_BYTES(literal) \
    { (const uint8_t *)(literal), sizeof(literal) - 1 }

/* An owned buffer, freed by the free_buf of the side that made it. ptr and cap are that
 * side's business (the host's may be a non-NULL dangling pointer when len is 0); the other
 * side only reads len bytes from ptr and passes the buffer back unchanged. */
typedef struct DatasetteOwnedBuf {
    uint8_t *ptr;
    size_t len;
    size_t cap;
} DatasetteOwnedBuf;

/* One hook: JSON in, JSON (or a message) out, a DATASETTE_STATUS_* returned.
 * `out` is NULL or points at an empty buffer; the callee puts its answer there (when `out` is
 * NULL, it only returns the status). */
typedef int32_t (*DatasetteHookFn)(DatasetteBytes input, DatasetteOwnedBuf *out);

/* One of the host's services: as a hook, with the handle set_host gave first. */
typedef int32_t (*DatasetteServiceFn)(const void *plugin, DatasetteBytes input,
                                      DatasetteOwnedBuf *out);

typedef struct DatasetteHostTable DatasetteHostTable;

/* What a plugin library offers the host. A hook that is NULL is not implemented. The optional
 * hooks are in table order (abi.rs `with_hooks!`, `HOOK_NAMES`); new ones are appended. */
typedef struct DatasettePluginTable {
    /* struct_size = sizeof(DatasettePluginTable) */
    DatasetteHeader header;
    /* DATASETTE_LAYOUT. */
    DatasetteBytes layout;
    /* DATASETTE_SDK_VERSION. */
    DatasetteBytes sdk_version;
    /* The package name (e.g. "datasette-c-hello"), UTF-8. */
    DatasetteBytes name;
    /* The version (e.g. "0.1.0"), UTF-8. */
    DatasetteBytes version;
    /* Panics can be caught at the boundary. The host refuses a library where this is false
     * (a Rust plugin built with panic = "abort" would take the host down with it). C code
     * does not panic: set it to true, and let nothing unwind out of a hook. */
    bool unwinds;
    /* Frees a buffer this library put in a hook's *out. May be given an empty buffer (ptr
     * NULL) when a hook wrote nothing. Must not be NULL. */
    void (*free_buf)(DatasetteOwnedBuf buf);
    /* Called once, before anything else, with the host's services (a table that lives as
     * long as the process) and the handle to pass back in every call to them. Must not be
     * NULL. */
    void (*set_host)(const DatasetteHostTable *host, const void *plugin);
    /* Input: the plugin's config. Output: `null`. An error stops the host's start-up.
     * Must not be NULL. */
    DatasetteHookFn startup;

    /* The optional hooks, nullable. */

    /* Input: `null`. Output: the paths the plugin serves. */
    DatasetteHookFn routes;
    /* Input: a `Request`, its body's bytes after the JSON. Output: a `Response`, its body's
     * bytes after the JSON. */
    DatasetteHookFn handle;
    /* Input: a `Request` without its body. Output: an actor or `null`. */
    DatasetteHookFn actor_from_request;
    /* Input: a `PermissionCheck`. Output: `true`, `false` or `null` (no opinion). */
    DatasetteHookFn permission_allowed;
    /* Input: a `MenuLinksRequest`. Output: a list of `MenuLink`. */
    DatasetteHookFn menu_links;
    /* Input: a `PageContext`. Output: stylesheet URLs for the page. */
    DatasetteHookFn extra_css_urls;
    /* Input: a `PageContext`. Output: script URLs for the page. */
    DatasetteHookFn extra_js_urls;
    /* Input: a `PageContext`. Output: JavaScript to run at the end of the page, or `null`. */
    DatasetteHookFn extra_body_script;
    /* Input: a `PageContext`. Output: a list of `MenuLink` for a table's actions. */
    DatasetteHookFn table_actions;
    /* Input: a `PageContext`. Output: a list of `MenuLink` for a database's actions. */
    DatasetteHookFn database_actions;
    /* Input: a `PageContext`. Output: a list of `MenuLink` for a row's actions. */
    DatasetteHookFn row_actions;
    /* Input: a `Forbidden`. Output: a `Response` to give instead of the 403 page, or `null`. */
    DatasetteHookFn forbidden;
    /* Input: `null`. Output: a list of `SqlFunction`, asked once at load. */
    DatasetteHookFn prepare_connection;
    /* Input: a `FunctionCall`. Output: the result, or a message with DATASETTE_STATUS_ERROR. */
    DatasetteHookFn call_function;
    /* Input: a `RenderCells`. Output: a list of `RenderedCell`. */
    DatasetteHookFn render_cell;
    /* Input: `null`. Output: a list of `OutputRenderer`, asked once at load. */
    DatasetteHookFn register_output_renderer;
    /* Input: an `OutputData`. Output: a `Response`. */
    DatasetteHookFn render_output;
    /* Input: `null`. Output: `null`. Called once, when the server serves: from here on the
     * host's services may be called from any thread. */
    DatasetteHookFn ready;
    /* Input: a `PermissionChecks` (one actor, one action, many resources). Output: a list of
     * `true`, `false` or `null`, one for each resource, in order. */
    DatasetteHookFn permission_allowed_many;
    /* Input: a `PageContext`. Output: an object whose keys become variables of the site's
     * own templates (`--template-dir`), or `null`. */
    DatasetteHookFn extra_template_vars;
    /* Input: null. Output: true when the plugin's permission votes depend on nothing but the
     * actor, the check, its configuration and what its own queries read while it votes; asked
     * once at load. The host then reuses its votes until a database they read changes. */
    DatasetteHookFn votes_follow_queries;
    /* Input: null. Output: the lower-case names of the request headers without which
     * actor_from_request answers null (["authorization"]), or null: it may recognise an actor
     * in any request. Asked once at load; the host then asks actor_from_request only about
     * requests that carry one of them. */
    DatasetteHookFn actor_headers;
} DatasettePluginTable;

/* What the host offers a plugin. Every service fills *out with a buffer of the host's: give it
 * back to free_buf below, whatever the status. A service is NULL when the host lacks it.
 * Services that wait (fetch, execute_write, insert_rows) are refused inside inline hooks:
 * call them from handle, ready or a thread of the plugin's own. */
struct DatasetteHostTable {
    DatasetteHeader header;
    /* DATASETTE_LAYOUT as the host was built. */
    DatasetteBytes layout;
    /* Frees a buffer the host put in a service's *out. */
    void (*free_buf)(DatasetteOwnedBuf buf);
    /* A line for the host's log, under the plugin's name: level 0 error, 1 warn, 2 info,
     * 3 debug. */
    void (*log)(const void *plugin, uint32_t level, DatasetteBytes message);
    /* Input: a `FetchRequest`. Output: a `FetchResponse`. */
    DatasetteServiceFn fetch;
    /* Input: a `QueryRequest`. Output: a `QueryResult`. */
    DatasetteServiceFn query;
    /* Input: a `PermissionCheck`. Output: `true` or `false`, the host's whole answer. */
    DatasetteServiceFn permission_allowed;
    /* Input: a `DatabasesRequest`. Output: a list of `DatabaseInfo`. */
    DatasetteServiceFn databases;
    /* Input: a `WriteRequest`. Output: a `WriteResult`. */
    DatasetteServiceFn execute_write;
    /* Input: an `InsertRequest`. Output: a `WriteResult`. */
    DatasetteServiceFn insert_rows;
    /* Input: a `SignRequest`. Output: the signed text. */
    DatasetteServiceFn sign;
    /* Input: an `UnsignRequest`. Output: the value signed. */
    DatasetteServiceFn unsign;
};

/* Exports a function from the shared library even when it is built with hidden visibility. */
#if defined(_WIN32)
#define DATASETTE_PLUGIN_EXPORT __declspec(dllexport)
#elif defined(__GNUC__)
#define DATASETTE_PLUGIN_EXPORT __attribute__((visibility("default")))
#else
#define DATASETTE_PLUGIN_EXPORT
#endif

/* The entry a plugin library defines and exports: returns its static table, which must live
 * as long as the process (libraries are never unloaded). */
DATASETTE_PLUGIN_EXPORT const DatasettePluginTable *datasette_plugin_entry_v2(void);

#ifdef __cplusplus
}
#endif

#endif /* DATASETTE_PLUGIN_H */
