//! `--static MOUNT:DIR` as given on the command line: checked at start-up.

use std::path::PathBuf;

/// One `--static` directory and where it is served.
#[derive(Debug, Clone)]
pub struct StaticMount {
    /// The first segment of its URLs.
    pub mount: String,
    /// The directory, its real path.
    pub dir: PathBuf,
}

impl StaticMount {
    /// Reads `MOUNT:DIR`; the directory must exist.
    pub fn parse(arg: &str) -> Result<StaticMount, String> {
        let bad = |why: &str| format!("--static {arg}: {why}");
        let (mount, dir) = arg
            .split_once(':')
            .ok_or_else(|| bad("expected MOUNT:DIRECTORY, such as assets:static/"))?;
        let name_ok = !mount.is_empty()
            && !mount.starts_with(['-', '.'])
            && mount
                .chars()
                .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
        if !name_ok {
            return Err(bad(
                "the mount must be letters, digits, '-', '_' or '.', not starting with '-' or '.'",
            ));
        }
        let dir = std::fs::canonicalize(dir).map_err(|e| bad(&format!("{dir}: {e}")))?;
        if !dir.is_dir() {
            return Err(bad(&format!("{} is not a directory", dir.display())));
        }
        Ok(StaticMount {
            mount: mount.to_string(),
            dir,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn mounts_are_checked_at_start() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path().to_str().unwrap();
        assert_eq!(
            StaticMount::parse(&format!("assets:{d}")).unwrap().mount,
            "assets"
        );
        for bad in [
            "assets".to_string(),
            format!(":{d}"),
            format!("-:{d}"),
            format!("a/b:{d}"),
            "assets:/no/such/dir".to_string(),
        ] {
            assert!(StaticMount::parse(&bad).is_err(), "{bad}");
        }
    }
}
