/*
 * datasette-c-hello: a datasette-rs plugin in plain C11, to show the ABI needs no Rust.
 *
 * - /-/hello-c greets, with the answer of a query the host runs for the plugin;
 * - a request with the header `x-c-actor: NAME` is made by the actor {"id": "NAME"};
 * - the actor c-friend may view the table fixture/secrets; the actor c-enemy may view nothing.
 *
 * Build: cc -std=c11 -shared -fPIC -O2 -I crates/plugin-api/include \
 *           -o libdatasette_c_hello.so tests/plugins/c-hello/hello.c
 */
#include <stdlib.h>
#include <string.h>

#include "datasette_plugin.h"

/* Set once by set_host, before any hook runs; only read afterwards, so hooks running on
 * several threads at once need no lock. `self` is the handle that names this plugin. */
static const DatasetteHostTable *host;
static const void *self;

/* ---- Answers: every buffer is malloc'ed here and freed by free_buf below. ---- */

/* Text being built; `failed` once an allocation did not succeed. */
typedef struct {
    char *ptr;
    size_t len, cap;
    bool failed;
} Text;

static void append(Text *t, const char *s, size_t n) {
    if (t->failed || n == 0) return;
    if (t->len + n > t->cap) {
        size_t cap = (t->len + n) * 2 + 64;
        char *grown = realloc(t->ptr, cap);
        if (!grown) {
            t->failed = true;
            return;
        }
        t->ptr = grown;
        t->cap = cap;
    }
    memcpy(t->ptr + t->len, s, n);
    t->len += n;
}

static void append_str(Text *t, const char *s) { append(t, s, strlen(s)); }

/* Appends n bytes of UTF-8 as the inside of a JSON string: quotes, backslashes and control
 * characters escaped, everything else as it is. */
static void append_escaped(Text *t, const char *s, size_t n) {
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if (c == '"' || c == '\\') {
            char pair[2] = {'\\', (char)c};
            append(t, pair, 2);
        } else if (c < 0x20) {
            char code[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
            append(t, code, 6);
        } else {
            append(t, (const char *)&c, 1);
        }
    }
}

/* Hands `t` to the host as the answer. Out of memory: an error with an empty buffer. */
static int32_t answer(Text *t, DatasetteOwnedBuf *out) {
    if (t->failed || !out) { /* nowhere to put it, or nothing to give */
        free(t->ptr);
        if (out) *out = (DatasetteOwnedBuf){NULL, 0, 0};
        return t->failed ? DATASETTE_STATUS_ERROR : DATASETTE_STATUS_OK;
    }
    *out = (DatasetteOwnedBuf){(uint8_t *)t->ptr, t->len, t->cap};
    return DATASETTE_STATUS_OK;
}

static int32_t answer_str(const char *json, DatasetteOwnedBuf *out) {
    Text t = {0};
    append_str(&t, json);
    return answer(&t, out);
}

static void free_buf(DatasetteOwnedBuf buf) { free(buf.ptr); }

static void set_host(const DatasetteHostTable *h, const void *plugin) {
    host = h;
    self = plugin;
}

/* ---- Reading the host's JSON. It is serde_json's compact output: no spaces, object keys in
 * the order of the structs in messages.rs. Spans are [p, end); a string's span includes its
 * quotes, so it can be compared with a quoted literal. ---- */

/* The host's input as text; "" when empty (its pointer is then not to be used). */
static const char *text_of(DatasetteBytes b) { return b.len ? (const char *)b.ptr : ""; }

/* The end of the JSON value starting at p, or NULL if it is cut short. The recursion follows
 * the nesting of the host's JSON, which serde_json limits to 128 levels when it reads it. */
static const char *skip_value(const char *p, const char *end) {
    if (p >= end) return NULL;
    if (*p == '"') {
        for (p++; p < end; p++) {
            if (*p == '"') return p + 1;
            if (*p == '\\' && ++p == end) break; /* step over the escaped character */
        }
        return NULL;
    }
    if (*p == '{' || *p == '[') {
        char close = *p == '{' ? '}' : ']';
        if (++p < end && *p == close) return p + 1;
        while (p < end) {
            if (close == '}') { /* a key and its colon */
                p = skip_value(p, end);
                if (!p || p >= end || *p++ != ':') return NULL;
            }
            p = skip_value(p, end);
            if (!p || p >= end) return NULL;
            if (*p == close) return p + 1;
            if (*p++ != ',') return NULL;
        }
        return NULL;
    }
    while (p < end && *p != ',' && *p != ']' && *p != '}') p++; /* number, true, false, null */
    return p;
}

/* Whether [p, end) is exactly `literal`. */
static bool is(const char *p, const char *end, const char *literal) {
    size_t n = strlen(literal);
    return p && (size_t)(end - p) == n && memcmp(p, literal, n) == 0;
}

/* The value of the member `quoted_key` of the object [p, end) (not of objects inside it), or
 * NULL. *value_end is set to its end. */
static const char *member(const char *p, const char *end, const char *quoted_key,
                          const char **value_end) {
    if (!p || p >= end || *p != '{') return NULL;
    for (p++; p < end && *p == '"';) {
        const char *key_end = skip_value(p, end);
        if (!key_end || key_end >= end || *key_end != ':') return NULL;
        const char *value = key_end + 1, *after = skip_value(value, end);
        if (!after) return NULL;
        if (is(p, key_end, quoted_key)) {
            *value_end = after;
            return value;
        }
        p = after < end && *after == ',' ? after + 1 : after;
    }
    return NULL;
}

/* The index-th item of the array [p, end), or NULL. *item_end is set to its end. */
static const char *item(const char *p, const char *end, size_t index, const char **item_end) {
    if (!p || p >= end || *p != '[') return NULL;
    for (p++; p < end && *p != ']';) {
        const char *after = skip_value(p, end);
        if (!after) return NULL;
        if (index-- == 0) {
            *item_end = after;
            return p;
        }
        p = after < end && *after == ',' ? after + 1 : after;
    }
    return NULL;
}

/* ---- The hooks. ---- */

static int32_t startup(DatasetteBytes config, DatasetteOwnedBuf *out) {
    (void)config; /* any configuration will do */
    static const char line[] = "started, written in C";
    DatasetteBytes message = DATASETTE_STATIC_BYTES(line);
    if (host) host->log(self, 2, message); /* 2: info */
    return answer_str("null", out);
}

static int32_t routes(DatasetteBytes input, DatasetteOwnedBuf *out) {
    (void)input;
    return answer_str("[\"/-/hello-c\"]", out);
}

/* Greets, and shows what the host's query service answered for `select 6 * 7`. */
static int32_t handle(DatasetteBytes request, DatasetteOwnedBuf *out) {
    (void)request;
    /* A service the host lacks is NULL. */
    bool has_query = host && host->query;
    static const char sql[] = "{\"sql\":\"select 6 * 7 as answer\"}";
    DatasetteOwnedBuf result = {NULL, 0, 0};
    int32_t status = DATASETTE_STATUS_ERROR;
    if (has_query)
        status = host->query(self, (DatasetteBytes)DATASETTE_STATIC_BYTES(sql), &result);

    Text body = {0};
    append_str(&body, "Hello from C! ");
    if (!has_query) {
        append_str(&body, "This host does not run queries for plugins.");
    } else {
        append_str(&body, status == DATASETTE_STATUS_OK ? "The host says: " : "The query failed: ");
        append(&body, (const char *)result.ptr, result.len);
        host->free_buf(result); /* the host's buffer goes back to the host */
    }

    Text response = {0};
    append_str(&response, "{\"status\":");
    append_str(&response, has_query && status == DATASETTE_STATUS_OK ? "200" : "500");
    append_str(&response, ",\"headers\":[[\"content-type\",\"text/plain; charset=utf-8\"]],"
                          "\"body\":\"");
    append_escaped(&response, body.ptr, body.len);
    append_str(&response, "\"}");
    free(body.ptr);
    if (body.failed) response.failed = true;
    return answer(&response, out);
}

/* The actor {"id": VALUE} of a request with the header `x-c-actor: VALUE`, if VALUE is made of
 * letters, digits, _ and - (so it needs no escaping); otherwise null. The Request's headers
 * are [["name","value"],...] with lowercase names. */
static int32_t actor_from_request(DatasetteBytes request, DatasetteOwnedBuf *out) {
    const char *json = text_of(request), *end = json + request.len, *headers_end = NULL;
    const char *headers = member(json, end, "\"headers\"", &headers_end);
    const char *pair, *pair_end = NULL, *name, *name_end = NULL, *value, *value_end = NULL;
    for (size_t i = 0; (pair = item(headers, headers_end, i, &pair_end)) != NULL; i++) {
        name = item(pair, pair_end, 0, &name_end);
        value = item(pair, pair_end, 1, &value_end);
        if (!is(name, name_end, "\"x-c-actor\"") || !value || *value != '"') continue;
        size_t n = (size_t)(value_end - value) - 2; /* without the quotes */
        if (n == 0 || strspn(value + 1, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                        "0123456789_-") < n)
            return answer_str("null", out);
        Text actor = {0};
        append_str(&actor, "{\"id\":");
        append(&actor, value, n + 2);
        append_str(&actor, "}");
        return answer(&actor, out);
    }
    return answer_str("null", out);
}

/* A PermissionCheck is {"actor":{...}|null,"action":"...","resource":["db","table"]|"db"|null}.
 * c-enemy is denied everything; c-friend may view fixture/secrets; other checks: no opinion. */
static int32_t permission_allowed(DatasetteBytes check, DatasetteOwnedBuf *out) {
    const char *json = text_of(check), *end = json + check.len;
    const char *actor_end = NULL, *id_end = NULL, *action_end = NULL, *resource_end = NULL;
    const char *actor = member(json, end, "\"actor\"", &actor_end);
    const char *id = member(actor, actor_end, "\"id\"", &id_end);
    const char *action = member(json, end, "\"action\"", &action_end);
    const char *resource = member(json, end, "\"resource\"", &resource_end);
    if (is(id, id_end, "\"c-enemy\"")) return answer_str("false", out);
    if (is(id, id_end, "\"c-friend\"") && is(action, action_end, "\"view-table\"") &&
        is(resource, resource_end, "[\"fixture\",\"secrets\"]"))
        return answer_str("true", out);
    return answer_str("null", out);
}

static const DatasettePluginTable table = {
    .header = {DATASETTE_MAGIC, DATASETTE_ABI_VERSION, sizeof(DatasettePluginTable)},
    .layout = DATASETTE_STATIC_BYTES(DATASETTE_LAYOUT),
    .sdk_version = DATASETTE_STATIC_BYTES(DATASETTE_SDK_VERSION),
    .name = DATASETTE_STATIC_BYTES("datasette-c-hello"),
    .version = DATASETTE_STATIC_BYTES("0.1.0"),
    .unwinds = true, /* C does not panic: nothing here can unwind into the host */
    .free_buf = free_buf,
    .set_host = set_host,
    .startup = startup,
    .routes = routes,
    .handle = handle,
    .actor_from_request = actor_from_request,
    .permission_allowed = permission_allowed,
    /* every other hook is NULL: not implemented */
};

DATASETTE_PLUGIN_EXPORT const DatasettePluginTable *datasette_plugin_entry_v2(void) {
    return &table;
}
