//! The C header (`include/datasette_plugin.h`) against the Rust ABI (`src/abi.rs`): a C file
//! of static assertions, with every size, alignment, offset and constant taken from Rust, must
//! compile with the system's C compiler (and as C++, which the header also serves). A field or
//! hook added on one side only fails here.

use std::mem::{align_of, offset_of, size_of};
use std::path::{Path, PathBuf};
use std::process::Command;

use datasette_plugin_api::abi::*;

fn header_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("include")
}

/// One fact the header must agree with: a C expression and the value Rust gives it.
struct Fact {
    c: String,
    rust: u64,
}

fn fact(c: impl Into<String>, rust: usize) -> Fact {
    Fact {
        c: c.into(),
        rust: rust as u64,
    }
}

/// Every layout fact and constant of the ABI, the optional hooks named by `hooks` (the Rust
/// list, in table order, unless a test changes it).
fn facts(hooks: &[&str]) -> Vec<Fact> {
    macro_rules! layout {
        ($c_type:literal, $rust_type:ty) => {
            vec![
                fact(concat!("sizeof(", $c_type, ")"), size_of::<$rust_type>()),
                fact(concat!("ALIGN_OF(", $c_type, ")"), align_of::<$rust_type>()),
            ]
        };
        ($c_type:literal, $rust_type:ty, $($field:ident),+) => {{
            let mut facts = layout!($c_type, $rust_type);
            $(facts.push(fact(
                concat!("offsetof(", $c_type, ", ", stringify!($field), ")"),
                offset_of!($rust_type, $field),
            ));)+
            facts
        }};
    }
    let mut facts = Vec::new();
    facts.extend(layout!(
        "DatasetteHeader",
        Header,
        magic,
        abi_version,
        struct_size
    ));
    facts.extend(layout!("DatasetteBytes", Bytes, ptr, len));
    facts.extend(layout!("DatasetteOwnedBuf", OwnedBuf, ptr, len, cap));
    facts.extend(layout!("DatasetteHookFn", Option<HookFn>));
    facts.extend(layout!(
        "DatasettePluginTable",
        PluginTable,
        header,
        layout,
        sdk_version,
        name,
        version,
        unwinds,
        free_buf,
        set_host,
        startup,
        routes
    ));
    // The optional hooks follow one another from `routes` on: the i-th name of the list sits
    // i pointers further. A hook Rust has and the header lacks is a missing member.
    let first_hook = offset_of!(PluginTable, routes);
    for (i, name) in hooks.iter().enumerate() {
        facts.push(fact(
            format!("offsetof(DatasettePluginTable, {name})"),
            first_hook + i * size_of::<Option<HookFn>>(),
        ));
    }
    facts.extend(layout!(
        "DatasetteHostTable",
        HostTable,
        header,
        layout,
        free_buf,
        log,
        fetch,
        query,
        permission_allowed,
        databases,
        execute_write,
        insert_rows,
        sign,
        unsign
    ));
    facts.extend([
        Fact {
            c: "DATASETTE_MAGIC".into(),
            rust: MAGIC,
        },
        fact("DATASETTE_ABI_VERSION", ABI_VERSION as usize),
        fact("DATASETTE_STATUS_OK", STATUS_OK as usize),
        fact("DATASETTE_STATUS_ERROR", STATUS_ERROR as usize),
        fact("DATASETTE_STATUS_PANIC", STATUS_PANIC as usize),
        fact("sizeof(bool)", size_of::<bool>()),
    ]);
    facts
}

/// The host's services, in table order.
const SERVICES: &[&str] = &[
    "fetch",
    "query",
    "permission_allowed",
    "databases",
    "execute_write",
    "insert_rows",
    "sign",
    "unsign",
];

/// A C (and C++) file that includes the header and asserts `facts` at compile time. It also
/// takes the address of every field as a pointer to the type the Rust field has, which fails
/// to compile when a C type differs (a pointer's constness, a service's signature), and takes
/// the entry function under the name Rust looks up.
fn c_source(facts: &[Fact], hooks: &[&str]) -> String {
    let mut c = String::from(
        r#"#include "datasette_plugin.h"

#ifdef __cplusplus
#define CHECK(cond, what) static_assert(cond, what)
#define ALIGN_OF(t) alignof(t)
#else
#define CHECK(cond, what) _Static_assert(cond, what)
#define ALIGN_OF(t) _Alignof(t)
#endif

"#,
    );
    for Fact { c: expr, rust } in facts {
        c.push_str(&format!(
            "CHECK((unsigned long long)({expr}) == {rust}ULL, \"{expr} should be {rust}, as in Rust\");\n"
        ));
    }
    c.push_str(
        r#"
/* Each field as a pointer to the type of its Rust counterpart: a mismatch does not compile. */
void check_field_types(DatasetteHeader *h, DatasetteBytes *b, DatasetteOwnedBuf *o,
                       DatasettePluginTable *p, DatasetteHostTable *host);
void check_field_types(DatasetteHeader *h, DatasetteBytes *b, DatasetteOwnedBuf *o,
                       DatasettePluginTable *p, DatasetteHostTable *host) {
    uint64_t *magic = &h->magic;
    uint32_t *abi_version = &h->abi_version;
    uint32_t *struct_size = &h->struct_size;
    const uint8_t **bytes_ptr = &b->ptr;
    size_t *bytes_len = &b->len;
    uint8_t **buf_ptr = &o->ptr;
    size_t *buf_len = &o->len;
    size_t *buf_cap = &o->cap;
    DatasetteHeader *plugin_header = &p->header;
    DatasetteBytes *layout = &p->layout;
    DatasetteBytes *sdk_version = &p->sdk_version;
    DatasetteBytes *name = &p->name;
    DatasetteBytes *version = &p->version;
    bool *unwinds = &p->unwinds;
    void (**plugin_free_buf)(DatasetteOwnedBuf) = &p->free_buf;
    void (**set_host)(const DatasetteHostTable *, const void *) = &p->set_host;
    int32_t (**startup)(DatasetteBytes, DatasetteOwnedBuf *) = &p->startup;
    DatasetteHeader *host_header = &host->header;
    DatasetteBytes *host_layout = &host->layout;
    void (**log)(const void *, uint32_t, DatasetteBytes) = &host->log;
    void (**host_free_buf)(DatasetteOwnedBuf) = &host->free_buf;
    (void)magic; (void)abi_version; (void)struct_size; (void)bytes_ptr; (void)bytes_len;
    (void)buf_ptr; (void)buf_len; (void)buf_cap; (void)plugin_header; (void)layout;
    (void)sdk_version; (void)name; (void)version; (void)unwinds; (void)plugin_free_buf;
    (void)set_host; (void)startup; (void)host_header; (void)host_layout; (void)log;
    (void)host_free_buf;
"#,
    );
    for name in SERVICES {
        c.push_str(&format!(
            "    {{ int32_t (**service)(const void *, DatasetteBytes, DatasetteOwnedBuf *) = &host->{name}; (void)service; }}\n"
        ));
    }
    for name in hooks {
        c.push_str(&format!(
            "    {{ int32_t (**hook)(DatasetteBytes, DatasetteOwnedBuf *) = &p->{name}; (void)hook; }}\n"
        ));
    }
    c.push_str("}\n\n");
    c.push_str(&format!(
        "const DatasettePluginTable *(*check_entry)(void) = &{ENTRY_SYMBOL};\n"
    ));
    c
}

/// Compiles `source` for syntax and static assertions only; the compiler's complaints if it
/// fails.
fn compile(compiler: &str, language: &[&str], source: &str, name: &str) -> Result<(), String> {
    let path = Path::new(env!("CARGO_TARGET_TMPDIR"))
        .join(format!("c_header-{}-{name}.c", std::process::id()));
    std::fs::write(&path, source).expect("write the C file");
    let output = Command::new(compiler)
        .args(language)
        .args([
            "-pedantic-errors",
            "-Wall",
            "-Wextra",
            "-Werror",
            "-fsyntax-only",
        ])
        .arg("-I")
        .arg(header_dir())
        .arg(&path)
        .output()
        .unwrap_or_else(|e| panic!("run the compiler `{compiler}`: {e}"));
    let _ = std::fs::remove_file(&path);
    if output.status.success() {
        Ok(())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).into_owned())
    }
}

fn c_compiler() -> String {
    std::env::var("CC").unwrap_or_else(|_| "cc".into())
}

fn cpp_compiler() -> String {
    std::env::var("CXX").unwrap_or_else(|_| "c++".into())
}

const C11: &[&str] = &["-std=c11", "-x", "c"];
const CPP11: &[&str] = &["-std=c++11", "-x", "c++"];

#[test]
fn the_c_header_has_the_layout_and_constants_of_the_rust_abi() {
    let source = c_source(&facts(HOOK_NAMES), HOOK_NAMES);
    if let Err(stderr) = compile(&c_compiler(), C11, &source, "c") {
        panic!("the header disagrees with src/abi.rs:\n{stderr}\n--- the C file:\n{source}");
    }
}

#[test]
fn the_c_header_compiles_as_cpp_with_the_same_layout() {
    let source = c_source(&facts(HOOK_NAMES), HOOK_NAMES);
    if let Err(stderr) = compile(&cpp_compiler(), CPP11, &source, "cpp") {
        panic!("the header disagrees with src/abi.rs in C++:\n{stderr}\n--- the file:\n{source}");
    }
}

#[test]
fn the_c_header_names_the_entry_symbol_rust_looks_up() {
    let header = std::fs::read_to_string(header_dir().join("datasette_plugin.h")).unwrap();
    let define = format!("#define DATASETTE_ENTRY_SYMBOL \"{ENTRY_SYMBOL}\"");
    assert!(header.contains(&define), "the header lacks `{define}`");
}

/// The string literals of a `#define`, joined as C joins adjacent literals.
fn defined_string(header: &str, name: &str) -> String {
    let start = header
        .find(&format!("#define {name} "))
        .unwrap_or_else(|| panic!("the header lacks {name}"));
    let mut text = String::new();
    for line in header[start..].lines() {
        let mut parts = line.split('"');
        parts.next();
        while let (Some(literal), Some(_)) = (parts.next(), parts.next()) {
            text.push_str(literal);
        }
        if !line.ends_with('\\') {
            break;
        }
    }
    text
}

#[test]
fn the_c_header_carries_the_layout_and_version_rust_compares() {
    let header = std::fs::read_to_string(header_dir().join("datasette_plugin.h")).unwrap();
    assert_eq!(defined_string(&header, "DATASETTE_LAYOUT"), LAYOUT);
    assert_eq!(
        defined_string(&header, "DATASETTE_SDK_VERSION"),
        SDK_VERSION
    );
}

/// The checks above can fail: a hook only Rust has, and a number the header disagrees with,
/// each stop the compilation and are named in the compiler's message.
#[test]
fn a_hook_or_offset_the_header_lacks_fails_the_check() {
    let mut hooks = HOOK_NAMES.to_vec();
    hooks.push("a_hook_only_rust_has");
    let stderr = compile(
        &c_compiler(),
        C11,
        &c_source(&facts(&hooks), &hooks),
        "extra-hook",
    )
    .expect_err("a hook missing from the header compiled");
    assert!(stderr.contains("a_hook_only_rust_has"), "{stderr}");

    let mut wrong = facts(HOOK_NAMES);
    let query = wrong
        .iter_mut()
        .find(|f| f.c == "offsetof(DatasetteHostTable, query)")
        .expect("the query service is checked");
    query.rust += 8;
    let stderr = compile(
        &c_compiler(),
        C11,
        &c_source(&wrong, HOOK_NAMES),
        "wrong-offset",
    )
    .expect_err("a wrong offset compiled");
    assert!(
        stderr.contains("offsetof(DatasetteHostTable, query) should be"),
        "{stderr}"
    );
}
