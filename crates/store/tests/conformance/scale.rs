//! The store at scale: 100,000 users, 100,000 log events and a role with
//! 20,000 members, seeded through the bulk paths (`create_users`,
//! `import_log_events`, `add_role_users`). Every search, sort and page is
//! checked against the answer computed here, in plain Rust, from what was
//! seeded; no time is asserted (the seeding time is printed).

use gatehouse_core::model::{Role, User};
use gatehouse_core::user_query::{parse_user_query, UserSort};
use gatehouse_store::{
    LogEvent, LogFilter, LogOrder, LogQuery, LogWindow, Page, Store, StoredUser, UserSearch,
};
use std::time::Instant;

/// The same fixed "now" as the rest of the suite (this module is also
/// compiled into the ignored timing test, without the harness).
pub const T0: i64 = 1_700_000_000;
pub const USERS: usize = 100_000;
pub const EVENTS: usize = 100_000;
/// Every this-many-th user holds the big role: 20,000 members.
pub const MEMBER_EVERY: usize = 5;
/// Rows handed to one bulk call.
const SEED_CHUNK: usize = 5_000;
pub const PER_PAGE: i64 = 50;

const FIRST_NAMES: [&str; 12] = [
    "Ann", "Anna", "Annette", "Bob", "Bobby", "Carla", "Dmitri", "Eve", "Zoë", "Ola", "Li", "Marie",
];
const DOMAINS: [&str; 5] = [
    "example.com",
    "Example.org",
    "mail.test",
    "corp.example",
    "x.io",
];
pub const PARTNERS: &str = "partners";

/// A bijection of `0..2^64` that scatters consecutive numbers, so ids sort
/// in an order unrelated to creation.
fn scatter(i: usize) -> u64 {
    (i as u64).wrapping_mul(0x9E37_79B9_7F4A_7C15)
}

/// What the reference needs of a user: the stored fields it sorts and
/// filters on, lowercased the way the search compares.
pub struct Person {
    pub user_id: String,
    pub connection: String,
    pub email_norm: String,
    pub name_norm: Option<String>,
    pub created_at: i64,
    pub logins_count: i64,
}

fn email_of(i: usize) -> String {
    let first = FIRST_NAMES[i % FIRST_NAMES.len()];
    let domain = DOMAINS[(i / 7) % DOMAINS.len()];
    let local = format!("{first}.{i}");
    let local = match i % 3 {
        0 => local.to_uppercase(),
        1 => local.to_lowercase(),
        _ => local,
    };
    format!("{local}@{domain}")
}

fn user_at(i: usize) -> StoredUser {
    // Three users per second: ties on created_at, broken by user_id.
    let mut user = User::new(
        format!("auth0|{:016x}{:08x}", scatter(i), i),
        &email_of(i),
        T0 + (i / 3) as i64,
    );
    if i.is_multiple_of(4) {
        user.connection = PARTNERS.into();
    }
    // Some users have no name: they sort first ascending, last descending.
    user.name =
        (!i.is_multiple_of(11)).then(|| format!("{} Person{}", FIRST_NAMES[i % 12], i % 997));
    user.logins_count = (i % 17) as i64;
    user.last_login = i.is_multiple_of(2).then(|| T0 + (i % 5_000) as i64);
    StoredUser {
        user,
        password_hash: None,
    }
}

fn person_of(stored: &StoredUser) -> Person {
    let u = &stored.user;
    Person {
        user_id: u.user_id.clone(),
        connection: u.connection.clone(),
        email_norm: u.email.as_deref().unwrap_or_default().to_lowercase(),
        name_norm: u.name.as_deref().map(str::to_lowercase),
        created_at: u.created_at,
        logins_count: u.logins_count,
    }
}

/// Seeds the users in chunks and returns what the reference needs.
pub async fn seed_users(store: &dyn Store) -> Vec<Person> {
    let started = Instant::now();
    let mut people = Vec::with_capacity(USERS);
    for first in (0..USERS).step_by(SEED_CHUNK) {
        let chunk: Vec<StoredUser> = (first..(first + SEED_CHUNK).min(USERS))
            .map(user_at)
            .collect();
        store.create_users(&chunk).await.unwrap();
        people.extend(chunk.iter().map(person_of));
    }
    eprintln!(
        "{}: seeded {USERS} users in {:.1?}",
        store.backend_name(),
        started.elapsed()
    );
    people
}

pub fn search(q: &str, sort: Option<&str>, connection: Option<&str>, page: i64) -> UserSearch {
    UserSearch {
        terms: parse_user_query(q).unwrap(),
        connection: connection.map(str::to_string),
        sort: sort.map(|s| UserSort::parse(s).unwrap()),
        page: Page {
            offset: page * PER_PAGE,
            limit: PER_PAGE,
        },
        include_total: true,
    }
}

/// The user ids of one page of `matches` (already in order), and the total.
fn expected_page(matches: &[&Person], page: i64) -> (Vec<String>, i64) {
    let ids = matches
        .iter()
        .skip((page * PER_PAGE) as usize)
        .take(PER_PAGE as usize)
        .map(|p| p.user_id.clone())
        .collect();
    (ids, matches.len() as i64)
}

async fn assert_search(store: &dyn Store, search: &UserSearch, expected: (Vec<String>, i64)) {
    let found = store.search_users(search).await.unwrap();
    let ids: Vec<String> = found.users.into_iter().map(|s| s.user.user_id).collect();
    assert_eq!(
        (ids, found.total),
        (expected.0, Some(expected.1)),
        "{search:?}"
    );
}

fn oldest_first(a: &&Person, b: &&Person) -> std::cmp::Ordering {
    (a.created_at, &a.user_id).cmp(&(b.created_at, &b.user_id))
}

async fn check_user_queries(store: &dyn Store, people: &[Person]) {
    let wanted = &people[54_321];
    let exact = search(
        &format!("email:\"{}\"", wanted.email_norm.to_uppercase()),
        None,
        None,
        0,
    );
    assert_search(store, &exact, (vec![wanted.user_id.clone()], 1)).await;

    // "ann" is the start of Ann, Anna and Annette, in every case.
    let mut prefixed: Vec<&Person> = people
        .iter()
        .filter(|p| p.email_norm.starts_with("ann"))
        .collect();
    prefixed.sort_by(oldest_first);
    for page in [0, 7] {
        let prefix = search("email:ANN*", None, None, page);
        assert_search(store, &prefix, expected_page(&prefixed, page)).await;
    }

    let mut by_name: Vec<&Person> = people.iter().collect();
    by_name.sort_by(|a, b| (&a.name_norm, &a.user_id).cmp(&(&b.name_norm, &b.user_id)));
    assert!(by_name[0].name_norm.is_none(), "nameless users sort first");
    let first_by_name = search("", Some("name:1"), None, 0);
    assert_search(store, &first_by_name, expected_page(&by_name, 0)).await;
    by_name.reverse();
    let last_by_name = search("", Some("name:-1"), None, 0);
    assert_search(store, &last_by_name, expected_page(&by_name, 0)).await;

    let mut by_email: Vec<&Person> = people.iter().collect();
    by_email.sort_by(|a, b| (&a.email_norm, &a.user_id).cmp(&(&b.email_norm, &b.user_id)));
    let deep = search("", Some("email:1"), None, 1000);
    assert_search(store, &deep, expected_page(&by_email, 1000)).await;

    // 17 distinct counts among 100,000 users: nearly every row ties.
    let mut by_logins: Vec<&Person> = people.iter().collect();
    by_logins.sort_by(|a, b| (b.logins_count, &b.user_id).cmp(&(a.logins_count, &a.user_id)));
    for page in [0, 333] {
        let ties = search("", Some("logins_count:-1"), None, page);
        assert_search(store, &ties, expected_page(&by_logins, page)).await;
    }

    let mut partners: Vec<&Person> = people.iter().filter(|p| p.connection == PARTNERS).collect();
    partners.sort_by(oldest_first);
    let last_page = partners.len() as i64 / PER_PAGE;
    for page in [0, 100, last_page] {
        let of_connection = search("", None, Some(PARTNERS), page);
        assert_search(store, &of_connection, expected_page(&partners, page)).await;
    }
}

const EVENT_TYPES: [&str; 5] = ["s", "f", "seccft", "ss", "fp"];
pub const LOG_CLIENTS: usize = 20;

fn event_at(i: usize, people: &[Person]) -> LogEvent {
    // Uneven type mix: "s" most, "fp" least.
    let event_type = EVENT_TYPES[[0, 0, 0, 1, 1, 2, 3, 4][i % 8]];
    let user_id = (event_type != "seccft").then(|| people[(i * 7) % 1_000].user_id.clone());
    LogEvent {
        log_id: format!("90{:020}", scatter(i)),
        // Four events per second: ties on date, broken by log_id.
        date: T0 + (i / 4) as i64,
        event_type: event_type.into(),
        client_id: Some(format!("client{:02}", i % LOG_CLIENTS)),
        user_id,
        description: String::new(),
        jti: None,
        ip: Some("127.0.0.1".into()),
        user_agent: None,
        client_name: None,
        user_name: None,
        audience: None,
        scope: None,
        details: serde_json::json!({}),
    }
}

/// What the reference needs of an event.
pub struct Logged {
    pub log_id: String,
    pub date: i64,
    pub event_type: String,
    pub client_id: Option<String>,
    pub user_id: Option<String>,
}

pub async fn seed_events(store: &dyn Store, people: &[Person]) -> Vec<Logged> {
    let started = Instant::now();
    let mut logged = Vec::with_capacity(EVENTS);
    for first in (0..EVENTS).step_by(SEED_CHUNK) {
        let chunk: Vec<LogEvent> = (first..(first + SEED_CHUNK).min(EVENTS))
            .map(|i| event_at(i, people))
            .collect();
        store.import_log_events(&chunk).await.unwrap();
        logged.extend(chunk.into_iter().map(|e| Logged {
            log_id: e.log_id,
            date: e.date,
            event_type: e.event_type,
            client_id: e.client_id,
            user_id: e.user_id,
        }));
    }
    eprintln!(
        "{}: seeded {EVENTS} log events in {:.1?}",
        store.backend_name(),
        started.elapsed()
    );
    logged
}

/// Whether an optional condition allows `value`.
fn allows<T: PartialEq>(condition: &Option<T>, value: Option<&T>) -> bool {
    condition
        .as_ref()
        .is_none_or(|wanted| value == Some(wanted))
}

fn matches(e: &Logged, filter: &LogFilter) -> bool {
    allows(&filter.event_type, Some(&e.event_type))
        && allows(&filter.client_id, e.client_id.as_ref())
        && allows(&filter.user_id, e.user_id.as_ref())
        && filter.date_from.is_none_or(|from| e.date >= from)
        && filter.date_to.is_none_or(|to| e.date <= to)
}

async fn assert_log_page(
    store: &dyn Store,
    logged: &[Logged],
    filter: LogFilter,
    order: LogOrder,
    page: Page,
) {
    let mut expected: Vec<&Logged> = logged.iter().filter(|e| matches(e, &filter)).collect();
    expected.sort_by(|a, b| (a.date, &a.log_id).cmp(&(b.date, &b.log_id)));
    if order == LogOrder::NewestFirst {
        expected.reverse();
    }
    let total = expected.len() as i64;
    let expected: Vec<&str> = expected
        .iter()
        .skip(page.offset as usize)
        .take(page.limit as usize)
        .map(|e| e.log_id.as_str())
        .collect();
    assert!(!expected.is_empty(), "{filter:?} {page:?} checks a page");
    let query = LogQuery {
        filter: filter.clone(),
        order,
        window: LogWindow::Page(page),
    };
    let found = store.search_log_events(&query).await.unwrap();
    let ids: Vec<&str> = found.iter().map(|e| e.log_id.as_str()).collect();
    assert_eq!(ids, expected, "{query:?}");
    assert_eq!(
        store.count_log_events(&filter).await.unwrap(),
        total,
        "{filter:?}"
    );
}

pub fn window(offset: i64, limit: i64) -> Page {
    Page { offset, limit }
}

async fn check_log_queries(store: &dyn Store, logged: &[Logged], people: &[Person]) {
    let newest = LogOrder::NewestFirst;
    let oldest = LogOrder::OldestFirst;
    assert_log_page(
        store,
        logged,
        LogFilter::default(),
        newest,
        window(90_000, 100),
    )
    .await;
    let failures = LogFilter {
        event_type: Some("f".into()),
        ..LogFilter::default()
    };
    assert_log_page(store, logged, failures, newest, window(20_000, 100)).await;
    let of_user = LogFilter {
        // The user of the events numbered 3 modulo 1,000 (see `event_at`).
        user_id: Some(people[21].user_id.clone()),
        ..LogFilter::default()
    };
    assert_log_page(store, logged, of_user, oldest, window(0, 100)).await;
    let of_client_in_a_day = LogFilter {
        client_id: Some("client07".into()),
        date_from: Some(T0 + 3_600),
        date_to: Some(T0 + 15_000),
        ..LogFilter::default()
    };
    assert_log_page(
        store,
        logged,
        of_client_in_a_day,
        newest,
        window(1_000, 100),
    )
    .await;
    check_log_checkpoints(store, logged).await;
}

/// Walks part of the log by checkpoint, as `from`/`take` does, from the
/// start and from the middle, against the ids in order.
async fn check_log_checkpoints(store: &dyn Store, logged: &[Logged]) {
    let mut ids: Vec<&str> = logged.iter().map(|e| e.log_id.as_str()).collect();
    ids.sort_unstable();
    for start in [0, EVENTS / 2] {
        let mut after = (start > 0).then(|| ids[start - 1].to_string());
        let mut seen = Vec::new();
        for _ in 0..5 {
            let batch = store
                .search_log_events(&LogQuery {
                    filter: LogFilter::default(),
                    order: LogOrder::OldestFirst,
                    window: LogWindow::Checkpoint {
                        after: after.clone(),
                        take: 100,
                    },
                })
                .await
                .unwrap();
            after = batch.last().map(|e| e.log_id.clone());
            seen.extend(batch.into_iter().map(|e| e.log_id));
        }
        assert_eq!(
            seen,
            ids[start..start + 500],
            "checkpoint walk from {start}"
        );
    }
}

/// The id of the role [`seed_role`] creates.
pub const CROWD: &str = "rol_crowd";

/// A role held by every [`MEMBER_EVERY`]-th user.
pub async fn seed_role(store: &dyn Store, people: &[Person]) {
    let role = Role {
        id: CROWD.into(),
        name: "crowd".into(),
        description: "a fifth of everyone".into(),
    };
    store.create_role(&role, T0).await.unwrap();
    let started = Instant::now();
    let member_ids: Vec<String> = people
        .iter()
        .step_by(MEMBER_EVERY)
        .map(|p| p.user_id.clone())
        .collect();
    for chunk in member_ids.chunks(SEED_CHUNK) {
        store.add_role_users(CROWD, chunk).await.unwrap();
    }
    eprintln!(
        "{}: gave the role to {} users in {:.1?}",
        store.backend_name(),
        member_ids.len(),
        started.elapsed()
    );
}

async fn check_role_members(store: &dyn Store, people: &[Person]) {
    seed_role(store, people).await;
    // Assigning again changes nothing.
    let again: Vec<String> = people
        .iter()
        .step_by(MEMBER_EVERY)
        .take(10)
        .map(|p| p.user_id.clone())
        .collect();
    store.add_role_users(CROWD, &again).await.unwrap();
    let mut members: Vec<&Person> = people.iter().step_by(MEMBER_EVERY).collect();
    members.sort_by(oldest_first);
    assert_eq!(
        store.count_role_users(CROWD).await.unwrap(),
        members.len() as i64
    );
    let last_page = (members.len() as i64 - 1) / PER_PAGE;
    for page in [0, 200, last_page, last_page + 1] {
        let (expected, _) = expected_page(&members, page);
        let found = store
            .role_users(CROWD, window(page * PER_PAGE, PER_PAGE))
            .await
            .unwrap();
        let ids: Vec<String> = found.into_iter().map(|s| s.user.user_id).collect();
        assert_eq!(ids, expected, "members page {page}");
    }
}

pub async fn directory_and_logs_at_scale(store: &dyn Store) {
    let people = seed_users(store).await;
    check_user_queries(store, &people).await;
    check_role_members(store, &people).await;
    let logged = seed_events(store, &people).await;
    check_log_queries(store, &logged, &people).await;
}
