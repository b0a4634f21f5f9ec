//! The command line.

use std::path::PathBuf;

use clap::{ArgAction, Parser, Subcommand};

#[derive(Parser, Debug)]
#[command(
    name = "datasette-rs",
    version,
    about = "Browse and publish SQLite databases: HTML pages and a Datasette-compatible JSON API"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Serve SQLite files (a sample database when none are given).
    #[command(disable_help_flag = true)]
    Serve(Box<ServeArgs>),
    /// Write each file's hash, size and table counts as JSON, for `serve --inspect-file`: a
    /// large immutable file is then neither hashed nor counted at start-up.
    Inspect(InspectArgs),
    /// Print a signed API token (`dstok_…`) for an actor, as `datasette create-token` does:
    /// `Authorization: Bearer TOKEN` then signs requests in as {"id": ID, "token": "dstok"}.
    CreateToken(CreateTokenArgs),
    /// List the plugin libraries `serve` would find: each `--plugin`, then every library in
    /// the plugin folders (`--plugins-dir`, `$DATASETTE_RS_PLUGINS`, the user's
    /// `$XDG_DATA_HOME/datasette-rs/plugins`, this executable's directory), with its name,
    /// versions and hooks, or why start-up would refuse it. Loading a library runs none of its
    /// hooks, `startup` included. Exits 1 if a `--plugin` library is refused.
    Plugins(PluginsArgs),
}

#[derive(clap::Args, Debug, Clone)]
pub struct PluginsArgs {
    /// A directory to look for plugins in (repeatable), first, as `serve --plugins-dir`.
    #[arg(long = "plugins-dir", value_name = "DIR")]
    pub plugins_dirs: Vec<PathBuf>,
    /// A plugin library to check (repeatable), as `serve --plugin` would load it.
    #[arg(long = "plugin", value_name = "FILE")]
    pub plugin_files: Vec<PathBuf>,
    /// Print JSON: the folders searched and each library found.
    #[arg(long)]
    pub json: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct CreateTokenArgs {
    /// The actor's id.
    pub id: String,
    /// The instance's secret (`serve --secret`): only a server with the same one accepts it.
    #[arg(long, env = "DATASETTE_SECRET", hide_env_values = true)]
    pub secret: String,
    /// The token stops working this many seconds from now.
    #[arg(long = "expires-after", short = 'e', value_name = "SECONDS")]
    pub expires_after: Option<u64>,
    /// Restrict the token to this action everywhere (repeatable).
    #[arg(long = "all", short = 'a', value_name = "ACTION")]
    pub all: Vec<String>,
    /// Restrict the token to an action in one database (repeatable): --database DB ACTION.
    #[arg(long = "database", short = 'd', num_args = 2, value_names = ["DB", "ACTION"], action = ArgAction::Append)]
    pub database: Vec<String>,
    /// Restrict the token to an action on one table or query (repeatable):
    /// --resource DB TABLE ACTION.
    #[arg(long = "resource", short = 'r', num_args = 3, value_names = ["DB", "RESOURCE", "ACTION"], action = ArgAction::Append)]
    pub resource: Vec<String>,
    /// Print the token's contents as well.
    #[arg(long)]
    pub debug: bool,
}

#[derive(clap::Args, Debug, Clone)]
pub struct InspectArgs {
    /// SQLite files to inspect, opened read-only.
    #[arg(required = true)]
    pub files: Vec<PathBuf>,
    /// Where to write the JSON (`-`: standard output).
    #[arg(long = "inspect-file", value_name = "FILE", default_value = "-")]
    pub inspect_file: String,
}

#[derive(clap::ValueEnum, Debug, Clone, Copy, PartialEq, Eq)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(clap::Args, Debug, Clone)]
pub struct ServeArgs {
    /// SQLite files to serve, opened read-only.
    pub files: Vec<PathBuf>,
    /// Files to serve as immutable: never re-read, counted once.
    #[arg(short = 'i', long = "immutable", value_name = "FILE")]
    pub immutable: Vec<PathBuf>,
    /// A Datasette-style metadata.json (or .yaml).
    #[arg(short = 'm', long = "metadata", value_name = "FILE")]
    pub metadata: Option<PathBuf>,
    /// Datasette 1.0's configuration file, datasette.yaml or .json: settings, allow and
    /// permissions blocks, plugins' configuration.
    #[arg(short = 'c', long = "config", value_name = "FILE")]
    pub config: Option<PathBuf>,
    /// Inspect data written by `datasette-rs inspect`: the hashes and table counts of the
    /// immutable files (`-i`), taken as they are.
    #[arg(long = "inspect-file", value_name = "FILE")]
    pub inspect_file: Option<PathBuf>,
    /// Address to listen on.
    #[arg(short = 'h', long, default_value = "127.0.0.1")]
    pub host: String,
    /// Port to listen on (0 picks a free one).
    #[arg(short = 'p', long, default_value_t = 8001)]
    pub port: u16,
    /// A setting, e.g. --setting max_returned_rows 500 (repeatable).
    #[arg(long = "setting", num_args = 2, value_names = ["NAME", "VALUE"], action = ArgAction::Append)]
    pub settings: Vec<String>,
    /// The secret that signs and encrypts session cookies; instances sharing it accept each
    /// other's cookies. Without one, a random key per process.
    #[arg(long, env = "DATASETTE_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// A directory to look for plugins in (repeatable); searched before the folders of
    /// $DATASETTE_RS_PLUGINS, the user's plugins folder ($XDG_DATA_HOME/datasette-rs/plugins)
    /// and the directory of this executable. `datasette-rs plugins` lists what they hold.
    #[arg(long = "plugins-dir", value_name = "DIR")]
    pub plugins_dirs: Vec<PathBuf>,
    /// Load this plugin library (repeatable), whether or not metadata.json enables it.
    #[arg(long = "plugin", value_name = "FILE")]
    pub plugin_files: Vec<PathBuf>,
    /// Let pages on other sites read the JSON, CSV and downloads (Access-Control-Allow-Origin:
    /// *), as Datasette's --cors. Browsers send no cookies with such reads.
    #[arg(long)]
    pub cors: bool,
    /// Serve the in-memory database `_memory` too, for SQL that reads no file.
    #[arg(long)]
    pub memory: bool,
    /// Serve `_memory`, where SQL reads the other files by name (`select * from
    /// fixtures.facetable`): for each actor, the files nothing of which is hidden from them
    /// and where they may run SQL (the first ten).
    #[arg(long)]
    pub crossdb: bool,
    /// Serve the files of DIR as they are at /MOUNT/… (repeatable), e.g. `--static
    /// assets:static/`: public, never listed, no hidden (dot) files.
    #[arg(long = "static", value_name = "MOUNT:DIR")]
    pub static_mounts: Vec<String>,
    /// Jinja templates that override the built-in pages by Datasette's names (`table.html`,
    /// `_table-DB-TABLE.html`, a `base.html` extending `default:base.html`) and add custom
    /// pages (`pages/about.html` at /about). Checked at start-up.
    #[arg(long = "template-dir", value_name = "DIR")]
    pub template_dir: Option<PathBuf>,
    /// Print a one-time URL that signs its opener in as {"id": "root"}.
    #[arg(long)]
    pub root: bool,
    /// Answer one GET of this path (e.g. `/db/table.json`) on stdout and exit, instead of
    /// serving: exit status 1 for a 4xx or 5xx answer.
    #[arg(long, value_name = "PATH")]
    pub get: Option<String>,
    /// How log lines are written: `text` for people, `json` (one object a line) for log
    /// shippers.
    #[arg(long = "log-format", value_enum, default_value_t = LogFormat::Text)]
    pub log_format: LogFormat,
    /// Print help.
    #[arg(long, action = ArgAction::Help)]
    pub help: Option<bool>,
}

impl ServeArgs {
    /// `--setting` values as (name, value) pairs.
    pub fn setting_pairs(&self) -> Vec<(String, String)> {
        self.settings
            .chunks(2)
            .map(|c| (c[0].clone(), c.get(1).cloned().unwrap_or_default()))
            .collect()
    }
}
