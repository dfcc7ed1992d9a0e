//! `gatehouse serve --demo`: the seed 000 story, ready in a browser.
//!
//! The demo runs in a data directory of its own (`./gatehouse-demo` unless
//! `--data-dir` says otherwise) marked by `demo.json`, which holds the demo
//! users' generated passwords. It never touches a directory that holds a
//! tenant without that mark, and `--demo-reset` deletes only a marked one.
//!
//! The world ([`world`]): the Measurements API with RBAC and permissions in
//! the token, a SPA application, alice (role `reader`) and bob (no role).
//! The server then also serves ([`routes`]):
//! - `/demo`: a page using auth0-spa-js (vendored, no build step) that logs
//!   in, calls the API and shows the token;
//! - `/demo/api/measurements`: the API, guarded by `gatehouse-guard` exactly
//!   as fastapi-auth0 guards seed 000's (the `scope` must hold
//!   `read:measurements`);
//! - `/demo/api/explain`: the explanation of the caller's own token, the
//!   one `gatehouse explain` prints.

mod routes;
mod world;

pub use routes::routes;
pub use world::{ensure_world, marked_users, DemoUsers};

use crate::config::{ServeArgs, DATABASE_FILE};
use std::path::{Path, PathBuf};

/// Where the demo keeps its tenant when `--data-dir` is not given.
pub const DEFAULT_DEMO_DIR: &str = "./gatehouse-demo";
/// The file that marks a data directory as the demo's.
pub const MARKER_FILE: &str = "demo.json";

/// `--demo` and `--demo-reset`: flags only, never read from the
/// environment or the configuration file, so a demo is on only when asked.
#[derive(Debug, Default, clap::Args)]
pub struct DemoArgs {
    /// Run the seed 000 demo: a tenant of its own (in ./gatehouse-demo unless
    /// --data-dir is given) with an API, a SPA, alice and bob, and a demo
    /// page at /demo. Not for real users
    #[arg(long)]
    pub demo: bool,
    /// Delete the demo's data directory first and start a fresh demo
    /// (implies --demo; refuses a directory that is not a demo's)
    #[arg(long)]
    pub demo_reset: bool,
}

impl DemoArgs {
    pub fn enabled(&self) -> bool {
        self.demo || self.demo_reset
    }
}

/// Fits the serve flags to the demo before they are resolved: its own data
/// directory, and nothing that would take it off this machine or onto a
/// real database.
pub fn fit_args(args: &mut ServeArgs) -> Result<(), String> {
    let refused = [
        ("--database-url", args.database_url.is_some()),
        ("--tls-cert", args.tls_cert.is_some()),
        ("--public-url", args.public_url.is_some()),
        ("--config", args.config.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(format!(
            "--demo runs on this machine on its own SQLite tenant and cannot take {flag} \
             (nor its GATEHOUSE_ variable)"
        ));
    }
    if args.data_dir.is_none() {
        args.data_dir = Some(PathBuf::from(DEFAULT_DEMO_DIR));
    }
    Ok(())
}

/// Checks that `dir` may hold the demo, deleting it first for `reset`:
/// a missing or empty directory, or one marked as a demo's.
pub fn claim_data_dir(dir: &Path, reset: bool) -> Result<(), String> {
    let marked = dir.join(MARKER_FILE).is_file();
    let empty = std::fs::read_dir(dir).map_or(true, |mut entries| entries.next().is_none());
    if !marked && !empty {
        let what = if dir.join(DATABASE_FILE).exists() {
            "holds a Gatehouse tenant that is not a demo"
        } else {
            "is not empty and not a demo's"
        };
        return Err(format!(
            "{} {what}; the demo keeps to a directory of its own: leave out --data-dir \
             (it uses {DEFAULT_DEMO_DIR}) or name an empty one",
            dir.display()
        ));
    }
    if reset && marked {
        std::fs::remove_dir_all(dir)
            .map_err(|e| format!("cannot delete the demo in {}: {e}", dir.display()))?;
    }
    Ok(())
}

/// What the demo prints after the server's own banner: loudly a demo, and
/// the three steps to try.
pub fn banner(base: &str, data_dir: &Path, users: &DemoUsers) -> String {
    let rule = "=".repeat(78);
    let dir = data_dir.display();
    format!(
        "\n{rule}\n  DEMO MODE: a throwaway tenant in {dir} with demo users and passwords.\n  \
         Not for real users or real data.\n{rule}\n\
         Open {base}/demo and try the story of seed 000:\n\
         \n  1. Log in as {alice} (password {alice_password}): she has the role reader,\n     \
         so \"Read the measurements\" answers 200 with the data.\n\
         \n  2. Log out, log in as {bob} (password {bob_password}): he has no role, so the\n     \
         same call is refused with 403 insufficient_scope, although the app asked\n     \
         for read:measurements.\n\
         \n  3. Read why: the page explains bob's token, or from a terminal\n       \
         gatehouse explain <bob's access token> --data-dir {dir}\n     \
         It names the fix: give bob a role with read:measurements\n     \
         ({base}/admin/users, signed in as the admin of {dir}/bootstrap.json).\n\
         \nStart over with: gatehouse serve --demo-reset{dir_flag}\n{rule}\n",
        alice = users.alice.email,
        alice_password = users.alice.password,
        bob = users.bob.email,
        bob_password = users.bob.password,
        dir_flag = if data_dir == Path::new(DEFAULT_DEMO_DIR) {
            String::new()
        } else {
            format!(" --data-dir {dir}")
        },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_demo_takes_only_an_empty_or_marked_directory() {
        let root = tempfile::tempdir().unwrap();
        let missing = root.path().join("missing");
        assert!(claim_data_dir(&missing, false).is_ok());
        assert!(claim_data_dir(&missing, true).is_ok());

        let tenant = root.path().join("tenant");
        std::fs::create_dir(&tenant).unwrap();
        std::fs::write(tenant.join(DATABASE_FILE), b"x").unwrap();
        for reset in [false, true] {
            let error = claim_data_dir(&tenant, reset).unwrap_err();
            assert!(error.contains("not a demo"), "{error}");
        }
        assert!(tenant.join(DATABASE_FILE).exists(), "never deleted");

        let demo = root.path().join("demo");
        std::fs::create_dir(&demo).unwrap();
        std::fs::write(demo.join(MARKER_FILE), b"{}").unwrap();
        std::fs::write(demo.join(DATABASE_FILE), b"x").unwrap();
        assert!(claim_data_dir(&demo, false).is_ok());
        assert!(demo.join(DATABASE_FILE).exists());
        assert!(claim_data_dir(&demo, true).is_ok());
        assert!(!demo.exists(), "--demo-reset deletes a demo's directory");
    }

    #[test]
    fn the_demo_refuses_flags_that_take_it_elsewhere() {
        let mut args = ServeArgs {
            database_url: Some("postgres://db/x".into()),
            ..Default::default()
        };
        assert!(fit_args(&mut args).unwrap_err().contains("--database-url"));
        let mut args = ServeArgs::default();
        fit_args(&mut args).unwrap();
        assert_eq!(args.data_dir, Some(PathBuf::from(DEFAULT_DEMO_DIR)));
    }
}
