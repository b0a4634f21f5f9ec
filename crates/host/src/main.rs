use anyhow::Context;
use clap::Parser;

use datasette_rs::app::{AppState, DatabaseFile};
use datasette_rs::cli::{
    Cli, Command, CreateTokenArgs, InspectArgs, LogFormat, PluginsArgs, ServeArgs,
};
use datasette_rs::config::{self, Metadata, Settings};
use datasette_rs::plugins::{self, LoadOptions, Plugins};
use datasette_rs::session::{self, SessionConfig};

fn main() -> anyhow::Result<()> {
    let args = match Cli::parse().command {
        Command::Serve(args) => args,
        Command::Inspect(args) => return inspect(&args),
        Command::CreateToken(args) => return create_token(&args),
        Command::Plugins(args) => return list_plugins(&args),
    };
    init_logging(args.log_format);
    let config = match &args.config {
        Some(path) => Some(config::file::read(path)?),
        None => None,
    };
    let settings = settings(&args, config.as_ref())?;
    let metadata = metadata(&args, config)?;
    let plugins = Plugins::load(
        &metadata,
        &LoadOptions::standard(args.plugins_dirs.clone(), args.plugin_files.clone()),
    )?;
    plugins::fetch::configure(plugins::fetch::Limits {
        total: std::time::Duration::from_millis(settings.plugin_fetch_timeout_ms),
        ..Default::default()
    });
    let files = database_files(&args)?;
    let inspected = match &args.inspect_file {
        Some(path) => datasette_rs::inspect::load(path).map_err(anyhow::Error::msg)?,
        None => Default::default(),
    };
    let session = SessionConfig::new(args.secret.as_deref(), &settings)?;
    actix_web::rt::System::new().block_on(async move {
        if args.secret.is_none() {
            tracing::warn!(
                "no --secret or DATASETTE_SECRET: sign-ins last until this process stops"
            );
        }
        let state =
            AppState::build(&files, &inspected, metadata, settings, session, plugins).await?;
        if args.root {
            let token = session::new_token();
            *state.root_token.lock().unwrap_or_else(|e| e.into_inner()) = Some(token.clone());
        }
        if let Some(path) = &args.get {
            let (status, body) = datasette_rs::server::get_once(state, path).await?;
            std::io::Write::write_all(&mut std::io::stdout(), &body)?;
            // As Datasette's `--get`: a 4xx or 5xx answer is a failure.
            if status >= 400 {
                std::process::exit(1);
            }
            return Ok(());
        }
        datasette_rs::server::run(state, &args.host, args.port).await?;
        Ok(())
    })
}

/// The configuration file's settings, then the `--setting` values, and the options kept
/// with them.
fn settings(args: &ServeArgs, config: Option<&serde_json::Value>) -> anyhow::Result<Settings> {
    let mut settings = Settings::default();
    for (name, value) in config.map(config::file::settings).unwrap_or_default() {
        let file = args.config.as_deref().unwrap_or(std::path::Path::new("-c"));
        settings
            .set(&name, &value)
            .with_context(|| format!("{}: settings", file.display()))?;
    }
    for (name, value) in args.setting_pairs() {
        settings.set(&name, &value)?;
    }
    settings.cors = args.cors;
    settings.memory = args.memory;
    settings.crossdb = args.crossdb;
    settings.static_mounts = args
        .static_mounts
        .iter()
        .map(|m| datasette_rs::config::StaticMount::parse(m))
        .collect::<Result<_, _>>()
        .map_err(anyhow::Error::msg)?;
    if let Some(dir) = &args.template_dir {
        let templates =
            datasette_rs::render::jinja::UserTemplates::load(dir).map_err(anyhow::Error::msg)?;
        settings.templates = Some(std::sync::Arc::new(templates));
    }
    Ok(settings)
}

/// metadata.json (or .yaml), with the configuration file laid over it.
fn metadata(args: &ServeArgs, config: Option<serde_json::Value>) -> anyhow::Result<Metadata> {
    let Some(mut config) = config else {
        return Ok(match &args.metadata {
            Some(path) => Metadata::load(path)?,
            None => Metadata::default(),
        });
    };
    let path = args.config.clone().unwrap_or_default();
    if let Some(object) = config.as_object_mut() {
        object.remove("settings");
    }
    let mut merged = match &args.metadata {
        Some(path) => Metadata::load(path)?.raw,
        None => serde_json::json!({}),
    };
    config::file::merge(&mut merged, config);
    Ok(Metadata::from_value(merged, &path)?)
}

/// `datasette-rs create-token`: a signed API token on stdout.
fn create_token(args: &CreateTokenArgs) -> anyhow::Result<()> {
    use datasette_rs::permissions::Action;
    use datasette_rs::tokens::{Claims, Restrictions, TokenKey};
    let known = |a: &str| {
        Action::ALL
            .iter()
            .any(|x| x.name() == a || x.abbreviation() == a)
            .then(|| a.to_string())
            .with_context(|| format!("unknown action '{a}'"))
    };
    let mut r = Restrictions::default();
    for a in &args.all {
        r.a.push(known(a)?);
    }
    for pair in args.database.chunks(2) {
        let list =
            r.d.entry(pair[0].clone())
                .or_insert_with(|| serde_json::json!([]));
        if let Some(list) = list.as_array_mut() {
            list.push(known(&pair[1])?.into());
        }
    }
    for triple in args.resource.chunks(3) {
        let db =
            r.r.entry(triple[0].clone())
                .or_insert_with(|| serde_json::json!({}));
        let list = &mut db[triple[1].as_str()];
        if list.is_null() {
            *list = serde_json::json!([]);
        }
        if let Some(list) = list.as_array_mut() {
            list.push(known(&triple[2])?.into());
        }
    }
    let restricted = !(r.a.is_empty() && r.d.is_empty() && r.r.is_empty());
    let claims = Claims {
        a: args.id.clone(),
        t: datasette_rs::tokens::now(),
        d: args.expires_after,
        r: restricted.then_some(r),
    };
    datasette_rs::session::key_from_secret(Some(&args.secret))?;
    let token = TokenKey::from_secret(Some(&args.secret)).sign(&claims);
    println!("{token}");
    if args.debug {
        eprintln!("{}", serde_json::to_string_pretty(&claims)?);
    }
    Ok(())
}

/// The files to serve: those given, or else (without `--memory`) the sample database.
fn database_files(args: &ServeArgs) -> anyhow::Result<Vec<DatabaseFile>> {
    let mut files: Vec<DatabaseFile> = args
        .files
        .iter()
        .map(|p| DatabaseFile {
            path: p.clone(),
            immutable: false,
        })
        .collect();
    files.extend(args.immutable.iter().map(|p| DatabaseFile {
        path: p.clone(),
        immutable: true,
    }));
    if files.is_empty() && !args.memory && !args.crossdb {
        // Built aside and renamed into place: the content is always the same, so another
        // instance serving the previous copy is unaffected.
        let dir = std::env::temp_dir().join("datasette-rs-sample");
        std::fs::create_dir_all(&dir)
            .with_context(|| format!("cannot create {}", dir.display()))?;
        let path = dir.join("sample.db");
        let partial = dir.join(format!("sample.db.{}", std::process::id()));
        datasette_rs::sample::build(&partial)
            .with_context(|| format!("cannot write the sample database {}", partial.display()))?;
        std::fs::rename(&partial, &path)
            .with_context(|| format!("cannot move the sample database to {}", path.display()))?;
        tracing::info!(
            "no database given: serving the sample database {}",
            path.display()
        );
        files.push(DatabaseFile {
            path,
            immutable: false,
        });
    }
    Ok(files)
}

/// `datasette-rs plugins`: what the plugin folders hold, and why start-up would refuse a
/// library (`plugins::listing`).
fn list_plugins(args: &PluginsArgs) -> anyhow::Result<()> {
    let options = LoadOptions::standard(args.plugins_dirs.clone(), args.plugin_files.clone());
    let listing = datasette_rs::plugins::listing::list(&options);
    let out = match args.json {
        true => serde_json::to_string_pretty(&listing)? + "\n",
        false => {
            eprintln!("{}", listing.summary());
            listing.text()
        }
    };
    std::io::Write::write_all(&mut std::io::stdout(), out.as_bytes())?;
    if listing.refused_given {
        std::process::exit(1);
    }
    Ok(())
}

/// `datasette-rs inspect`: the files' inspect data, on stdout or into `--inspect-file`.
fn inspect(args: &InspectArgs) -> anyhow::Result<()> {
    let data = datasette_rs::inspect::inspect(&args.files).map_err(anyhow::Error::msg)?;
    let json = serde_json::to_string_pretty(&data)? + "\n";
    match args.inspect_file.as_str() {
        "-" => std::io::Write::write_all(&mut std::io::stdout(), json.as_bytes())?,
        path => std::fs::write(path, json).with_context(|| format!("cannot write {path}"))?,
    }
    Ok(())
}

/// Log lines on stderr, filtered by `RUST_LOG` (default `info`): text, or one JSON object a
/// line for log shippers.
fn init_logging(format: LogFormat) {
    let filter =
        tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into());
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    match format {
        LogFormat::Text => builder
            .with_ansi(std::io::IsTerminal::is_terminal(&std::io::stderr()))
            .init(),
        LogFormat::Json => builder.json().flatten_event(true).init(),
    }
}
