//! `datasette-plugin-macros`: the `#[datasette_plugin]` attribute of `datasette-plugin-api`,
//! which re-exports it. Use it from there: the code it writes names `::datasette_plugin_api`.

use proc_macro::TokenStream;
use proc_macro2::Span;
use quote::{quote, ToTokens};
use syn::{spanned::Spanned, ImplItem, Item, ItemImpl};

/// The optional hooks of the plugin table, in table order: `datasette_plugin_api::abi::HOOK_NAMES`
/// as this crate knows it. A test of `datasette-plugin-api` compares the two (through
/// [`known_hooks!`]), so a hook added there and not here fails it.
const HOOKS: &[&str] = &[
    "routes",
    "handle",
    "actor_from_request",
    "permission_allowed",
    "menu_links",
    "extra_css_urls",
    "extra_js_urls",
    "extra_body_script",
    "table_actions",
    "database_actions",
    "row_actions",
    "forbidden",
    "prepare_connection",
    "call_function",
    "render_cell",
    "register_output_renderer",
    "render_output",
    "ready",
    "permission_allowed_many",
    "extra_template_vars",
    "votes_follow_queries",
    "actor_headers",
];

/// Exports a `Plugin` from a `cdylib` with exactly the hooks its impl defines, as Python's
/// `@hookimpl` does: put it on the impl, and a hook written there is always called.
///
/// ```ignore
/// use datasette_plugin_api::{datasette_plugin, Host, Plugin, Request, Response, Route};
/// use serde_json::Value;
///
/// struct Hello;
///
/// #[datasette_plugin]
/// impl Plugin for Hello {
///     fn startup(_config: Value, _host: &Host) -> Result<Self, String> {
///         Ok(Hello)
///     }
///
///     fn routes(&self) -> Vec<Route> {
///         vec!["/-/hello".into()]
///     }
///
///     fn handle(&self, _request: Request, _host: &Host) -> Response {
///         Response::text(200, "Hello")
///     }
/// }
/// ```
///
/// The impl is kept as written, followed by
/// `::datasette_plugin_api::export_plugin!(Hello: routes, handle)`: every method of the impl
/// named as one of the optional hooks (`datasette_plugin_api::abi::HOOK_NAMES`); `startup` is
/// always exported. So the crate must depend on `datasette-plugin-api` under that name, and
/// export one plugin (the library's one entry symbol). A hook method under `#[cfg]` is exported
/// whether or not it is compiled (without it the trait's default answers), and hooks written by
/// a macro inside the impl are not seen: list those with `export_plugin!` instead.
#[proc_macro_attribute]
pub fn datasette_plugin(attr: TokenStream, item: TokenStream) -> TokenStream {
    let attr = proc_macro2::TokenStream::from(attr);
    let item = proc_macro2::TokenStream::from(item);
    let export = if !attr.is_empty() {
        Err(syn::Error::new_spanned(
            &attr,
            "#[datasette_plugin] takes no arguments",
        ))
    } else {
        syn::parse2::<Item>(item.clone()).and_then(|parsed| export(&parsed))
    };
    match export {
        Ok(export) => quote!(#item #export).into(),
        // The item is kept as written, so the only error is this one.
        Err(e) => {
            let e = e.to_compile_error();
            quote!(#e #item).into()
        }
    }
}

/// Expands to the hooks this crate knows, `&[&str]` in table order: for the test that compares
/// them with `datasette_plugin_api::abi::HOOK_NAMES`.
#[doc(hidden)]
#[proc_macro]
pub fn known_hooks(input: TokenStream) -> TokenStream {
    let input = proc_macro2::TokenStream::from(input);
    if !input.is_empty() {
        return syn::Error::new_spanned(input, "known_hooks!() takes no arguments")
            .to_compile_error()
            .into();
    }
    let hooks = HOOKS;
    quote!(&[#(#hooks),*] as &[&str]).into()
}

const USAGE: &str = "#[datasette_plugin] goes on a plugin's `impl Plugin for YourType { ... }`";

/// `::datasette_plugin_api::export_plugin!(Type: hooks…);` for `item`, an impl of `Plugin`.
fn export(item: &Item) -> syn::Result<proc_macro2::TokenStream> {
    let item_impl: &ItemImpl = match item {
        Item::Impl(item_impl) => item_impl,
        other => return Err(syn::Error::new(first_span(other), USAGE)),
    };
    let trait_path = match &item_impl.trait_ {
        Some((None, path, _)) => path,
        Some((Some(bang), _, _)) => {
            return Err(syn::Error::new_spanned(
                bang,
                format!("{USAGE}, not a negative impl"),
            ))
        }
        None => {
            return Err(syn::Error::new_spanned(
                &item_impl.self_ty,
                format!("{USAGE}: this impl names no trait"),
            ))
        }
    };
    let is_plugin = trait_path
        .segments
        .last()
        .is_some_and(|segment| segment.ident == "Plugin" && segment.arguments.is_none());
    if !is_plugin {
        return Err(syn::Error::new_spanned(
            trait_path,
            format!(
                "{USAGE}, not of `{}`",
                trait_path.to_token_stream().to_string().replace(' ', "")
            ),
        ));
    }
    if !item_impl.generics.params.is_empty() || item_impl.generics.where_clause.is_some() {
        return Err(syn::Error::new_spanned(
            &item_impl.generics,
            "#[datasette_plugin] exports one plugin, of one type: the impl cannot be generic",
        ));
    }
    let hooks = item_impl.items.iter().filter_map(|item| match item {
        ImplItem::Fn(f) if HOOKS.iter().any(|hook| f.sig.ident == hook) => Some(&f.sig.ident),
        _ => None,
    });
    let self_ty = &item_impl.self_ty;
    Ok(quote! {
        ::datasette_plugin_api::export_plugin!(#self_ty: #(#hooks),*);
    })
}

/// Where an item that is not an impl starts, for the error: its first token.
fn first_span(item: &Item) -> Span {
    item.to_token_stream()
        .into_iter()
        .next()
        .map_or_else(|| item.span(), |token| token.span())
}
