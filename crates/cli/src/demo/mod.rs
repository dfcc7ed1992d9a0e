//! `gatehouse serve --demo`: the seed 000 story, ready in a browser.
//!
//! The demo runs in a data directory of its own (`./gatehouse-demo` unless
//! `--data-dir` says otherwise), marked by `gatehouse-demo.json`, which
//! holds the demo users' generated passwords. It takes only a missing or
//! empty directory or one with that mark, and `--demo-reset` deletes only
//! the files a demo makes there. It reads no setting from the environment,
//! listens only on a loopback address, and takes no flag that would put it
//! on a real database, a real mail server or a public URL.
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

use crate::config::{ServeArgs, DATABASE_FILE, DEFAULT_BIND, OUTBOX_DIR};
use std::path::{Path, PathBuf};

/// Where the demo keeps its tenant when `--data-dir` is not given.
pub const DEFAULT_DEMO_DIR: &str = "./gatehouse-demo";
/// The file that marks a data directory as the demo's.
pub const MARKER_FILE: &str = "gatehouse-demo.json";

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
/// directory, a loopback address, and nothing that would put it on a real
/// database, mail server, key or URL. `from_environment` names the serve
/// options whose value came from a `GATEHOUSE_` variable (clap's ids).
pub fn fit_args(args: &mut ServeArgs, from_environment: &[String]) -> Result<(), String> {
    if let Some(id) = from_environment.first() {
        return Err(format!(
            "--demo reads no settings from the environment, and GATEHOUSE_{} is set: \
             unset it (or pass --{} on the command line)",
            id.to_uppercase(),
            id.replace('_', "-")
        ));
    }
    if std::env::var_os(crate::master_key::MASTER_KEY_ENV).is_some() {
        return Err(format!(
            "--demo keeps its own master key, and {} is set: unset it",
            crate::master_key::MASTER_KEY_ENV
        ));
    }
    let refused = [
        ("--database-url", args.database_url.is_some()),
        ("--tls-cert", args.tls_cert.is_some()),
        ("--public-url", args.public_url.is_some()),
        ("--config", args.config.is_some()),
        ("--smtp-url", args.smtp_url.is_some()),
        ("--master-key-file", args.master_key_file.is_some()),
    ];
    if let Some((flag, _)) = refused.iter().find(|(_, given)| *given) {
        return Err(format!(
            "--demo runs on this machine on its own SQLite tenant and cannot take {flag}"
        ));
    }
    let bind = args.bind.get_or_insert_with(|| DEFAULT_BIND.to_string());
    let loopback = bind
        .parse::<std::net::SocketAddr>()
        .is_ok_and(|address| address.ip().is_loopback());
    if !loopback {
        return Err(format!(
            "--demo listens only on this machine (plain HTTP, printed passwords): \
             --bind must be a loopback address such as 127.0.0.1:8080, not {bind:?}"
        ));
    }
    if args.data_dir.is_none() {
        args.data_dir = Some(PathBuf::from(DEFAULT_DEMO_DIR));
    }
    Ok(())
}

/// Checks that `dir` may hold the demo: missing, empty, or marked as a
/// demo's. With `reset`, a marked directory loses what a demo made there.
pub fn claim_data_dir(dir: &Path, reset: bool) -> Result<(), String> {
    let empty = match std::fs::read_dir(dir) {
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => true,
        Err(e) => return Err(format!("cannot read {}: {e}", dir.display())),
        Ok(mut entries) => entries.next().is_none(),
    };
    if empty {
        return Ok(());
    }
    if world::read_marker(dir).is_none() {
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
    if reset {
        remove_demo_files(dir)?;
    }
    Ok(())
}

/// What a demo makes in its directory; nothing else is deleted by a reset.
const DEMO_FILES: &[&str] = &[
    DATABASE_FILE,
    "gatehouse.db-wal",
    "gatehouse.db-shm",
    crate::master_key::MASTER_KEY_FILE,
    crate::bootstrap_file::FILE_NAME,
    OUTBOX_DIR,
    MARKER_FILE,
];

fn remove_demo_files(dir: &Path) -> Result<(), String> {
    for name in DEMO_FILES {
        let path = dir.join(name);
        let removed = if path.is_dir() {
            std::fs::remove_dir_all(&path)
        } else {
            std::fs::remove_file(&path)
        };
        match removed {
            Ok(()) => {}
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
            Err(e) => return Err(format!("cannot delete {}: {e}", path.display())),
        }
    }
    // Only if nothing else is left in it.
    let _ = std::fs::remove_dir(dir);
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
         \n  1. Log in as {alice} (password {alice_password}) and accept the consent\n     \
         page (asked once: the app runs on 127.0.0.1). She has the role reader,\n     \
         so \"Read the measurements\" answers 200 with the data.\n\
         \n  2. Log out, log in as {bob} (password {bob_password}): he has no role, so the\n     \
         same call is refused with 403 insufficient_scope, although the app asked\n     \
         for read:measurements.\n\
         \n  3. Read why: the page explains bob's token, or from a terminal\n       \
         gatehouse explain <bob's access token> --data-dir {dir} --public-url {base}\n     \
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

    fn fitted(args: ServeArgs) -> Result<ServeArgs, String> {
        let mut args = args;
        fit_args(&mut args, &[]).map(|()| args)
    }

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

        // A file of the marker's name that is not a demo's marks nothing.
        let planted = root.path().join("planted");
        std::fs::create_dir(&planted).unwrap();
        std::fs::write(planted.join(MARKER_FILE), b"{\"notes\": 1}").unwrap();
        std::fs::write(planted.join("main.c"), b"int main;").unwrap();
        assert!(claim_data_dir(&planted, true).is_err());
        assert!(marked_users(&planted).is_err());
        assert!(planted.join("main.c").exists());

        let demo = root.path().join("demo");
        std::fs::create_dir(&demo).unwrap();
        let users = marked_users(&demo).unwrap();
        assert_eq!(
            marked_users(&demo).unwrap().alice.password,
            users.alice.password
        );
        std::fs::write(demo.join(DATABASE_FILE), b"x").unwrap();
        std::fs::create_dir(demo.join(OUTBOX_DIR)).unwrap();
        assert!(claim_data_dir(&demo, false).is_ok());
        assert!(demo.join(DATABASE_FILE).exists());
        assert!(claim_data_dir(&demo, true).is_ok());
        assert!(!demo.exists(), "--demo-reset deletes what a demo made");

        // A reset keeps what the demo did not make.
        std::fs::create_dir(&demo).unwrap();
        marked_users(&demo).unwrap();
        std::fs::write(demo.join("notes.txt"), b"mine").unwrap();
        claim_data_dir(&demo, true).unwrap();
        assert!(demo.join("notes.txt").exists());
        assert!(!demo.join(MARKER_FILE).exists());
    }

    #[test]
    fn the_demo_refuses_what_takes_it_off_this_machine() {
        for (args, flag) in [
            (
                ServeArgs {
                    database_url: Some("postgres://db/x".into()),
                    ..Default::default()
                },
                "--database-url",
            ),
            (
                ServeArgs {
                    smtp_url: Some("smtp://relay".to_string().into()),
                    ..Default::default()
                },
                "--smtp-url",
            ),
            (
                ServeArgs {
                    bind: Some("0.0.0.0:8080".into()),
                    ..Default::default()
                },
                "loopback",
            ),
            (
                ServeArgs {
                    bind: Some("192.168.1.5:8080".into()),
                    ..Default::default()
                },
                "loopback",
            ),
        ] {
            let error = fitted(args).unwrap_err();
            assert!(error.contains(flag), "{error}");
        }
        let error = fit_args(&mut ServeArgs::default(), &["data_dir".into()]).unwrap_err();
        assert!(error.contains("GATEHOUSE_DATA_DIR is set"), "{error}");
        let args = fitted(ServeArgs::default()).unwrap();
        assert_eq!(args.data_dir, Some(PathBuf::from(DEFAULT_DEMO_DIR)));
        assert_eq!(args.bind.as_deref(), Some(DEFAULT_BIND));
        assert!(fitted(ServeArgs {
            bind: Some("[::1]:0".into()),
            ..Default::default()
        })
        .is_ok());
    }
}
