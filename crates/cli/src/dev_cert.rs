//! `gatehouse dev-cert`: a local certificate authority and a server
//! certificate for 127.0.0.1, localhost and ::1, for HTTPS on a developer's
//! machine (clients such as fastapi-auth0 speak only https).
//!
//! The CA is made once and kept in `<data-dir>/tls/`, so trusting it once is
//! enough: running the command again issues a fresh server certificate from
//! the same CA. Like everything in the data directory, the directory is 0700
//! and its files 0600.

use rcgen::{
    BasicConstraints, Certificate, CertificateParams, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use std::path::{Path, PathBuf};
use time::{Duration, OffsetDateTime};

/// The names the server certificate is valid for.
const SERVER_NAMES: [&str; 3] = ["127.0.0.1", "localhost", "::1"];
/// The CA outlives many server certificates; the server certificate stays
/// under the 825 days Apple platforms accept for a locally trusted one.
const CA_LIFETIME_DAYS: i64 = 10 * 365;
const SERVER_LIFETIME_DAYS: i64 = 800;
const CA_NAME: &str = "Gatehouse development CA";

#[derive(Debug, clap::Args)]
pub struct DevCertArgs {
    /// Data directory (as for serve); the files go to <data-dir>/tls/
    #[arg(long, env = "GATEHOUSE_DATA_DIR", default_value = "./gatehouse-data")]
    data_dir: PathBuf,
}

/// Where the files are.
struct Paths {
    dir: PathBuf,
    ca_cert: PathBuf,
    ca_key: PathBuf,
    cert: PathBuf,
    key: PathBuf,
}

impl Paths {
    fn under(data_dir: &Path) -> Self {
        let dir = data_dir.join("tls");
        Self {
            ca_cert: dir.join("ca.pem"),
            ca_key: dir.join("ca-key.pem"),
            cert: dir.join("cert.pem"),
            key: dir.join("key.pem"),
            dir,
        }
    }
}

pub fn run(args: DevCertArgs) -> Result<(), String> {
    crate::data_dir::prepare(&args.data_dir)?;
    let paths = Paths::under(&args.data_dir);
    crate::data_dir::prepare(&paths.dir)?;
    let now = OffsetDateTime::now_utc();
    let (ca, ca_key, ca_is_new) = ca(&paths, now)?;
    let server_key = new_key()?;
    let server = server_params(now)?
        .signed_by(&server_key, &ca, &ca_key)
        .map_err(|e| format!("cannot sign the server certificate: {e}"))?;
    let chain = format!("{}{}", server.pem(), read(&paths.ca_cert)?);
    write(&paths.cert, &chain)?;
    write(&paths.key, &server_key.serialize_pem())?;
    println!("{}", instructions(&paths, ca_is_new, now));
    Ok(())
}

/// The CA: the one already in the directory, or a new one.
fn ca(paths: &Paths, now: OffsetDateTime) -> Result<(Certificate, KeyPair, bool), String> {
    if paths.ca_key.exists() && paths.ca_cert.exists() {
        let key = KeyPair::from_pem(&read(&paths.ca_key)?)
            .map_err(|e| format!("{} is not a private key: {e}", paths.ca_key.display()))?;
        // Re-made with the same name and key, the CA signs certificates that
        // chain to the ca.pem already trusted (issuer name and key identifier
        // are the same); ca.pem itself is left as it is.
        let ca = ca_params(now)?
            .self_signed(&key)
            .map_err(|e| format!("cannot load the CA: {e}"))?;
        return Ok((ca, key, false));
    }
    let key = new_key()?;
    let ca = ca_params(now)?
        .self_signed(&key)
        .map_err(|e| format!("cannot make the CA: {e}"))?;
    write(&paths.ca_key, &key.serialize_pem())?;
    write(&paths.ca_cert, &ca.pem())?;
    Ok((ca, key, true))
}

fn new_key() -> Result<KeyPair, String> {
    KeyPair::generate_for(&rcgen::PKCS_ECDSA_P256_SHA256)
        .map_err(|e| format!("cannot generate a key: {e}"))
}

fn ca_params(now: OffsetDateTime) -> Result<CertificateParams, String> {
    let mut params =
        CertificateParams::new(Vec::<String>::new()).map_err(|e| format!("CA parameters: {e}"))?;
    params.distinguished_name = name(CA_NAME);
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![KeyUsagePurpose::KeyCertSign, KeyUsagePurpose::CrlSign];
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(CA_LIFETIME_DAYS);
    Ok(params)
}

fn server_params(now: OffsetDateTime) -> Result<CertificateParams, String> {
    let names: Vec<String> = SERVER_NAMES.iter().map(|n| n.to_string()).collect();
    let mut params =
        CertificateParams::new(names).map_err(|e| format!("certificate parameters: {e}"))?;
    params.distinguished_name = name("Gatehouse on this machine");
    params.is_ca = IsCa::ExplicitNoCa;
    params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    params.use_authority_key_identifier_extension = true;
    params.not_before = now - Duration::days(1);
    params.not_after = now + Duration::days(SERVER_LIFETIME_DAYS);
    Ok(params)
}

fn name(common_name: &str) -> DistinguishedName {
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, common_name);
    name.push(DnType::OrganizationName, "Gatehouse development");
    name
}

fn read(path: &Path) -> Result<String, String> {
    std::fs::read_to_string(path).map_err(|e| format!("cannot read {}: {e}", path.display()))
}

/// Writes `text` to `path`, readable by its owner only (the data directory's rule).
fn write(path: &Path, text: &str) -> Result<(), String> {
    crate::data_dir::write_private_file(path, text.as_bytes())
        .map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn instructions(paths: &Paths, ca_is_new: bool, now: OffsetDateTime) -> String {
    let ca = paths.ca_cert.display();
    let expires = (now + Duration::days(SERVER_LIFETIME_DAYS)).date();
    let ca_line = if ca_is_new {
        format!("Made a development CA: {ca}")
    } else {
        format!("Kept the development CA: {ca} (already trusted? then nothing more to do)")
    };
    format!(
        "{ca_line}
Issued a certificate for {names} until {expires}: {cert} (key {key})
The CA's key, {ca_key}, stays here: whoever has it can make certificates that the
machines trusting this CA accept.

Serve over HTTPS:
  gatehouse serve --data-dir {data_dir} --tls-cert {cert} --tls-key {key}

Trust the CA where the clients run:
  Python (urllib, fastapi-auth0, requests) export SSL_CERT_FILE={ca} REQUESTS_CA_BUNDLE={ca}
  Node.js                                  export NODE_EXTRA_CA_CERTS={ca}
  curl and OpenSSL                         export SSL_CERT_FILE={ca}
  (SSL_CERT_FILE and REQUESTS_CA_BUNDLE replace the system's list in that shell: fine for
  local development, not for calling the internet.)
  Chromium and Chrome on Linux             certutil -d sql:$HOME/.pki/nssdb -A -t C,, -n \"{CA_NAME}\" -i {ca}
                                           (or Settings > Privacy and security > Security >
                                           Manage certificates > Authorities > Import)
  Firefox                                  Settings > Certificates > View Certificates >
                                           Authorities > Import",
        names = SERVER_NAMES.join(", "),
        cert = paths.cert.display(),
        key = paths.key.display(),
        ca_key = paths.ca_key.display(),
        data_dir = paths
            .dir
            .parent()
            .map_or_else(|| ".".into(), |p| p.display().to_string()),
    )
}
