//! Every link of the dashboard leads somewhere: starting at `/admin`, a
//! crawler follows each same-origin `/admin` link (GET only, so nothing
//! changes) on a tenant holding seed 000 and some log events, and every page
//! answers 200 — never a 404 from a link the dashboard itself printed, never
//! a 500.

use super::{unescaped, Dashboard};
use crate::fixtures::{seed, PASSWORD};
use crate::pages::web_query;
use std::collections::{BTreeSet, VecDeque};

/// Pages a crawl may visit; a bound, so a paging bug cannot run forever.
const MAX_PAGES: usize = 400;

#[tokio::test]
async fn every_link_the_dashboard_prints_opens_a_page() {
    let dash = Dashboard::start().await;
    let server = dash.server();
    let seeded = seed(server.store.as_ref()).await;
    // Log events: a login and a refused token request.
    let browser = server.browser();
    crate::pages::log_in(
        server,
        &browser,
        &web_query(&seeded, &[]),
        "alice@example.com",
    )
    .await;
    let _ = server
        .post_form(
            "/oauth/token",
            &[
                ("grant_type", "client_credentials"),
                ("client_id", &seeded.m2m_id),
                ("client_secret", "wrong"),
            ],
        )
        .await;
    let _ = PASSWORD;

    let mut seen = BTreeSet::from(["/admin".to_string()]);
    let mut queue = VecDeque::from(["/admin".to_string()]);
    let mut visited = 0;
    while let Some(path) = queue.pop_front() {
        visited += 1;
        assert!(
            visited <= MAX_PAGES,
            "more than {MAX_PAGES} pages: {seen:?}"
        );
        let (status, html) = dash.page(&path).await;
        assert_eq!(status, 200, "GET {path}:\n{html}");
        for link in links(&unescaped(&html)) {
            if seen.insert(link.clone()) {
                queue.push_back(link);
            }
        }
    }
    assert!(visited > 30, "the crawl saw only {visited} pages: {seen:?}");
}

/// The `/admin` paths the page links to, without fragments; sign-out is a
/// form, the assets are not pages.
fn links(html: &str) -> Vec<String> {
    html.split("href=\"")
        .skip(1)
        .filter_map(|rest| rest.split('"').next())
        .map(|href| href.split('#').next().unwrap_or("").to_string())
        .filter(|href| href.starts_with("/admin") && !href.starts_with("/admin/assets/"))
        .filter(|href| !href.starts_with("/admin/sign-"))
        .collect()
}
