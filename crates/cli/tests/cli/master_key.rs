//! The data directory and the master key, through the real binary: a private
//! data directory (0700, files 0600) and the refusal of one others can write
//! to; signing keys sealed in the database; a wrong or missing master key
//! refused at start; PostgreSQL without a master key refused; `keys rewrap`.

use crate::{expect_failure, gatehouse, kids, path_arg, Server};
use gatehouse_core::model::SigningAlg;
use gatehouse_core::sealing::{self, MasterKey};
use std::os::unix::fs::PermissionsExt;
use std::path::Path;
use std::process::Command;
use std::time::Duration;

fn mode(path: &Path) -> u32 {
    std::fs::metadata(path).expect("stat").permissions().mode() & 0o777
}

fn serve(cwd: &Path, data: &Path, extra: &[&str]) -> Command {
    let mut args = vec![
        "serve",
        "--bind",
        "127.0.0.1:0",
        "--data-dir",
        path_arg(data),
    ];
    args.extend_from_slice(extra);
    gatehouse(cwd, &args)
}

/// The failure's stderr, which must carry `expected`.
fn refused(case: &str, command: Command, expected: &str) -> String {
    let failure = expect_failure(case, command);
    let text = failure.stderr.join("\n");
    assert!(
        failure
            .stderr
            .iter()
            .any(|l| l.starts_with("gatehouse: error:") && l.contains(expected)),
        "{case}: no error line with {expected:?}:\n{text}"
    );
    text
}

/// Every entry of `dir` with its mode.
fn modes(dir: &Path) -> Vec<(String, u32)> {
    let mut entries: Vec<(String, u32)> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let e = e.unwrap();
            (
                e.file_name().to_string_lossy().into_owned(),
                mode(&e.path()),
            )
        })
        .collect();
    entries.sort();
    entries
}

/// Standard base64 with padding, as the code before sealing stored keys.
fn base64(bytes: &[u8]) -> String {
    const ALPHABET: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    let mut out = String::new();
    for chunk in bytes.chunks(3) {
        let n = chunk
            .iter()
            .enumerate()
            .fold(0u32, |n, (i, b)| n | (*b as u32) << (16 - 8 * i));
        for i in 0..4 {
            if i <= chunk.len() {
                out.push(ALPHABET[(n >> (18 - 6 * i) & 63) as usize] as char);
            } else {
                out.push('=');
            }
        }
    }
    out
}

#[tokio::test]
async fn the_data_dir_is_private_and_the_database_holds_only_sealed_keys() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let mut first = Server::start(serve(tmp.path(), &data, &[]));
    // bootstrap.json is written right after the banner.
    assert!(
        first
            .process
            .wait_for_line(|l| l.contains("saved to"), Duration::from_secs(10))
            .is_some(),
        "no bootstrap file announced: {:?}",
        first.process.stdout_seen
    );
    let names: Vec<String> = modes(&data).into_iter().map(|(n, _)| n).collect();
    for expected in [
        "gatehouse.db",
        "gatehouse.db-wal",
        "gatehouse.db-shm",
        "bootstrap.json",
        "master.key",
    ] {
        assert!(
            names.iter().any(|n| n == expected),
            "{expected} in {names:?}"
        );
    }
    assert_eq!(mode(&data), 0o700);
    for (name, mode) in modes(&data) {
        assert_eq!(mode, 0o600, "{name}");
    }

    // A raw read of the database files: every private key is sealed, and
    // neither the PKCS#8 DER nor its base64 (the old format) appears.
    let master_key =
        MasterKey::parse(&std::fs::read_to_string(data.join("master.key")).unwrap()).unwrap();
    let mut raw = std::fs::read(data.join("gatehouse.db")).unwrap();
    raw.extend(std::fs::read(data.join("gatehouse.db-wal")).unwrap());
    let raw_text = String::from_utf8_lossy(&raw);
    let url = format!("sqlite:{}", data.join("gatehouse.db").display());
    let store = gatehouse_store::open(&url).await.unwrap();
    let stored = store.signing_keys().await.unwrap();
    assert_eq!(stored.len(), 8, "current and next of four algorithms");
    for key in &stored {
        assert!(
            key.private_key.starts_with(sealing::SEALED_PREFIX),
            "{}",
            key.kid
        );
        let der = gatehouse_server::keys::unseal_private_key(key, &master_key).unwrap();
        assert!(
            !raw.windows(der.len()).any(|w| w == der.as_slice()),
            "PKCS#8 DER of {} in the database file",
            key.kid
        );
        assert!(
            !raw_text.contains(&base64(&der)),
            "base64 PKCS#8 of {}",
            key.kid
        );
        assert!(
            !raw_text.contains(&base64(&der)[..40]),
            "base64 PKCS#8 of {}",
            key.kid
        );
    }
    drop(store);
    let kids_before = kids(&first).await;
    first.process.stop();

    // An existing data directory with loose modes is tightened on start.
    std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o755)).unwrap();
    for (name, _) in modes(&data) {
        std::fs::set_permissions(data.join(name), std::fs::Permissions::from_mode(0o644)).unwrap();
    }
    let second = Server::start(serve(tmp.path(), &data, &[]));
    assert_eq!(mode(&data), 0o700);
    for (name, mode) in modes(&data) {
        assert_eq!(mode, 0o600, "{name} after restart");
    }
    assert_eq!(kids(&second).await, kids_before);
    second.process.stop();
}

#[test]
fn a_data_dir_that_group_or_others_can_write_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    for loose in [0o777, 0o775, 0o1777] {
        let data = tmp.path().join(format!("data-{loose:o}"));
        std::fs::create_dir(&data).unwrap();
        std::fs::set_permissions(&data, std::fs::Permissions::from_mode(loose)).unwrap();
        refused(
            &format!("data dir {loose:o}"),
            serve(tmp.path(), &data, &[]),
            "is writable by group or others",
        );
        assert!(
            std::fs::read_dir(&data).unwrap().next().is_none(),
            "nothing written to {loose:o}"
        );
    }
}

#[tokio::test]
async fn a_wrong_or_missing_master_key_is_refused_at_start() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let first = Server::start(serve(tmp.path(), &data, &[]));
    let kids_before = kids(&first).await;
    first.process.stop();

    let other = tmp.path().join("other.key");
    std::fs::write(&other, MasterKey::generate().to_text()).unwrap();
    refused(
        "another key file",
        serve(tmp.path(), &data, &["--master-key-file", path_arg(&other)]),
        "the master key does not match the one the signing keys were sealed with",
    );
    let mut from_env = serve(tmp.path(), &data, &[]);
    from_env.env("GATEHOUSE_MASTER_KEY", MasterKey::generate().to_text());
    refused(
        "another key in the environment",
        from_env,
        "the master key does not match the one the signing keys were sealed with",
    );

    // master.key lost: the start fails and leaves no new key behind.
    let saved = tmp.path().join("saved.key");
    std::fs::rename(data.join("master.key"), &saved).unwrap();
    refused(
        "master.key missing",
        serve(tmp.path(), &data, &[]),
        "was missing: restore it from your backup",
    );
    assert!(!data.join("master.key").exists());
    // Restored from the backup, the server starts with its keys.
    let restored = Server::start(serve(
        tmp.path(),
        &data,
        &["--master-key-file", path_arg(&saved)],
    ));
    assert_eq!(kids(&restored).await, kids_before);
    restored.process.stop();
}

#[test]
fn postgresql_without_a_master_key_is_refused() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    // Refused before any connection: nothing listens on port 1.
    refused(
        "postgres without a key",
        serve(
            tmp.path(),
            &data,
            &["--database-url", "postgres://postgres@127.0.0.1:1/none"],
        ),
        "a PostgreSQL database needs the master key",
    );
    assert!(!data.join("master.key").exists());
}

#[tokio::test]
async fn rewrap_seals_the_keys_under_a_new_master_key() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let first = Server::start(serve(tmp.path(), &data, &[]));
    let kids_before = kids(&first).await;
    first.process.stop();
    let old_key = tmp.path().join("old.key");
    std::fs::copy(data.join("master.key"), &old_key).unwrap();

    // The default master.key is replaced.
    let rewrap = gatehouse(
        tmp.path(),
        &["keys", "rewrap", "--data-dir", path_arg(&data)],
    )
    .output()
    .unwrap();
    assert!(
        rewrap.status.success(),
        "{}",
        String::from_utf8_lossy(&rewrap.stderr)
    );
    assert!(String::from_utf8_lossy(&rewrap.stdout).contains("re-sealed 8 signing keys"));
    assert_ne!(
        std::fs::read(data.join("master.key")).unwrap(),
        std::fs::read(&old_key).unwrap()
    );
    assert_eq!(mode(&data.join("master.key")), 0o600);
    assert!(!data.join("master.key.new").exists());

    let second = Server::start(serve(tmp.path(), &data, &[]));
    assert_eq!(kids(&second).await, kids_before);
    second.process.stop();
    refused(
        "the old key after rewrap",
        serve(
            tmp.path(),
            &data,
            &["--master-key-file", path_arg(&old_key)],
        ),
        "the master key does not match",
    );

    // Onto a key file of the operator's (generated there when missing).
    let new_key = tmp.path().join("new.key");
    let rewrap = gatehouse(
        tmp.path(),
        &[
            "keys",
            "rewrap",
            "--data-dir",
            path_arg(&data),
            "--new-master-key-file",
            path_arg(&new_key),
        ],
    )
    .output()
    .unwrap();
    assert!(
        rewrap.status.success(),
        "{}",
        String::from_utf8_lossy(&rewrap.stderr)
    );
    assert_eq!(mode(&new_key), 0o600);
    let third = Server::start(serve(
        tmp.path(),
        &data,
        &["--master-key-file", path_arg(&new_key)],
    ));
    assert_eq!(kids(&third).await, kids_before);
    third.process.stop();
    refused(
        "master.key after rewrap to another file",
        serve(tmp.path(), &data, &[]),
        "the master key does not match",
    );
}

#[tokio::test]
async fn a_plain_key_written_after_sealing_is_refused_by_serve_and_rewrap() {
    let tmp = tempfile::tempdir().unwrap();
    let data = tmp.path().join("data");
    let first = Server::start(serve(tmp.path(), &data, &[]));
    first.process.stop();

    // Someone with write access to the database adds their own key, in the
    // plain format of earlier versions.
    let url = format!("sqlite:{}", data.join("gatehouse.db").display());
    let store = gatehouse_store::open(&url).await.unwrap();
    let theirs = gatehouse_core::jose::KeyPair::generate(SigningAlg::RS256).unwrap();
    store
        .insert_signing_key(&gatehouse_store::StoredKey {
            kid: theirs.kid().to_string(),
            alg: SigningAlg::RS256,
            state: "current".to_string(),
            private_key: base64(theirs.pkcs8_der()),
            cert_der: theirs.cert_der().to_vec(),
            created_at: 0,
            state_changed_at: 0,
        })
        .await
        .unwrap();
    drop(store);

    refused(
        "serve with a plain key after sealing",
        serve(tmp.path(), &data, &[]),
        theirs.kid(),
    );
    refused(
        "rewrap with a plain key after sealing",
        gatehouse(
            tmp.path(),
            &["keys", "rewrap", "--data-dir", path_arg(&data)],
        ),
        theirs.kid(),
    );
}
