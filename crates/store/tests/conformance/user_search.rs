//! The user search (`search_users`), users by email and the activity
//! counts: the same answers from SQLite and PostgreSQL.

use super::directory::user;
use super::harness::T0;
use gatehouse_core::model::User;
use gatehouse_core::user_query::{parse_user_query, UserSort};
use gatehouse_store::{DailyCounts, LogEvent, Page, Store, StoredUser, UserSearch};

async fn add(store: &dyn Store, id: &str, email: &str, edit: impl FnOnce(&mut User)) {
    let mut stored = user(id, email);
    edit(&mut stored.user);
    store.create_user(&stored).await.unwrap();
}

fn search(q: &str) -> UserSearch {
    UserSearch {
        terms: parse_user_query(q).unwrap(),
        connection: None,
        sort: Some(UserSort::parse("user_id:1").unwrap()),
        page: Page::ALL,
        include_total: false,
    }
}

async fn ids_of(store: &dyn Store, search: &UserSearch) -> Vec<String> {
    let page = store.search_users(search).await.unwrap();
    page.users.into_iter().map(|s| s.user.user_id).collect()
}

async fn ids(store: &dyn Store, q: &str) -> Vec<String> {
    ids_of(store, &search(q)).await
}

/// Alice, Bob (blocked, another connection) and Élodie (non-ASCII name).
async fn insert_people(store: &dyn Store) {
    add(store, "auth0|a", "Alice@Example.com", |u| {
        u.name = Some("Alice Liddell".into());
        u.nickname = Some("ally".into());
        u.given_name = Some("Alice".into());
        u.family_name = Some("Liddell".into());
        u.email_verified = true;
    })
    .await;
    add(store, "auth0|b", "bob@builders.org", |u| {
        u.name = Some("Bob Builder".into());
        u.nickname = None;
        u.blocked = true;
        u.connection = "other-db".into();
    })
    .await;
    add(store, "auth0|e", "elodie@example.com", |u| {
        u.name = Some("ÉLODIE Ÿ".into());
    })
    .await;
}

pub async fn user_search_terms(store: &dyn Store) {
    insert_people(store).await;
    let all = ["auth0|a", "auth0|b", "auth0|e"];
    assert_eq!(ids(store, "").await, all);
    // Exact, case-insensitive, also beyond ASCII.
    assert_eq!(ids(store, "email:alice@example.com").await, ["auth0|a"]);
    assert_eq!(
        ids(store, r#"email:"ALICE@EXAMPLE.COM""#).await,
        ["auth0|a"]
    );
    assert_eq!(ids(store, "email:alice").await, Vec::<String>::new());
    assert_eq!(ids(store, r#"name:"élodie ÿ""#).await, ["auth0|e"]);
    assert_eq!(ids(store, "nickname:ALLY").await, ["auth0|a"]);
    assert_eq!(ids(store, "given_name:alice").await, ["auth0|a"]);
    assert_eq!(ids(store, "family_name:LIDDELL").await, ["auth0|a"]);
    assert_eq!(ids(store, "user_id:AUTH0|B").await, ["auth0|b"]);
    assert_eq!(ids(store, "connection:other-db").await, ["auth0|b"]);
    assert_eq!(
        ids(
            store,
            "identities.connection:Username-Password-Authentication"
        )
        .await,
        ["auth0|a", "auth0|e"]
    );
    // Booleans match the words true and false, nothing else.
    assert_eq!(ids(store, "blocked:true").await, ["auth0|b"]);
    assert_eq!(ids(store, "blocked:FALSE").await, ["auth0|a", "auth0|e"]);
    assert_eq!(ids(store, "email_verified:true").await, ["auth0|a"]);
    assert_eq!(ids(store, "blocked:yes").await, Vec::<String>::new());
    assert_eq!(ids(store, "blocked:t*").await, ["auth0|b"]);
    assert_eq!(ids(store, "blocked:*").await, all);
    // Prefixes.
    assert_eq!(ids(store, "email:AL*").await, ["auth0|a"]);
    assert_eq!(ids(store, "name:él*").await, ["auth0|e"]);
    assert_eq!(ids(store, "name:é*").await, ["auth0|e"]);
    assert_eq!(ids(store, "name:ê*").await, Vec::<String>::new());
    assert_eq!(ids(store, "email:*").await, all);
    assert_eq!(
        ids(store, "nickname:*").await.len(),
        2,
        "no nickname, no match"
    );
    assert_eq!(ids(store, "user_id:auth0|*").await, all);
    // Bare words: substrings of email, name, nickname or user_id.
    assert_eq!(ids(store, "BUILD").await, ["auth0|b"]);
    assert_eq!(ids(store, "lly").await, ["auth0|a"]);
    assert_eq!(ids(store, "0|e").await, ["auth0|e"]);
    assert_eq!(ids(store, "example.com").await, ["auth0|a", "auth0|e"]);
    // Every term must match; the connection filter too.
    assert_eq!(ids(store, "example.com AND email:el*").await, ["auth0|e"]);
    assert_eq!(
        ids(store, "example.com blocked:true").await,
        Vec::<String>::new()
    );
    let mut in_other = search("");
    in_other.connection = Some("other-db".into());
    assert_eq!(ids_of(store, &in_other).await, ["auth0|b"]);
}

pub async fn user_search_escapes_like_wildcards(store: &dyn Store) {
    for (id, email) in [
        ("auth0|pct", "a%b@x.org"),
        ("auth0|und", "a_b@x.org"),
        ("auth0|any", "axb@x.org"),
        ("auth0|bsl", r"a\b@x.org"),
        // Just above the range of "a%…": the prefix's upper bound.
        ("auth0|amp", "a&b@x.org"),
    ] {
        add(store, id, email, |_| {}).await;
    }
    assert_eq!(ids(store, "email:a%*").await, ["auth0|pct"]);
    assert_eq!(ids(store, "email:a_*").await, ["auth0|und"]);
    assert_eq!(ids(store, r"email:a\*").await, ["auth0|bsl"]);
    assert_eq!(ids(store, "%b@").await, ["auth0|pct"]);
    assert_eq!(ids(store, "_b@").await, ["auth0|und"]);
    assert_eq!(ids(store, r"\b@").await, ["auth0|bsl"]);
    assert_eq!(ids(store, "email:a&*").await, ["auth0|amp"]);
    assert_eq!(ids(store, "email:a*").await.len(), 5);
}

pub async fn user_search_sorts_and_pages(store: &dyn Store) {
    // Created in this order; logins_count ties between c and d.
    let people = [
        ("auth0|d", "dave@x.org", Some("zed"), 2),
        ("auth0|b", "bea@x.org", None, 5),
        ("auth0|c", "Carl@x.org", Some("Amy"), 2),
        ("auth0|a", "ann@x.org", Some("mo"), 0),
    ];
    for (i, (id, email, nickname, logins)) in people.into_iter().enumerate() {
        add(store, id, email, |u| {
            u.nickname = nickname.map(String::from);
            u.created_at = T0 + i as i64;
        })
        .await;
        for n in 0..logins {
            store.record_login(id, T0 + 100 + n).await.unwrap();
        }
    }
    let sorted = |sort: &str, offset: i64, limit: i64| UserSearch {
        terms: Vec::new(),
        connection: None,
        sort: Some(UserSort::parse(sort).unwrap()),
        page: Page { offset, limit },
        include_total: false,
    };
    let all = |sort: &str| sorted(sort, 0, 10);
    assert_eq!(
        ids_of(store, &all("email:1")).await,
        ["auth0|a", "auth0|b", "auth0|c", "auth0|d"]
    );
    assert_eq!(
        ids_of(store, &all("email:-1")).await,
        ["auth0|d", "auth0|c", "auth0|b", "auth0|a"]
    );
    // No nickname sorts first ascending, last descending; case is ignored.
    assert_eq!(
        ids_of(store, &all("nickname:1")).await,
        ["auth0|b", "auth0|c", "auth0|a", "auth0|d"]
    );
    assert_eq!(
        ids_of(store, &all("nickname:-1")).await,
        ["auth0|d", "auth0|a", "auth0|c", "auth0|b"]
    );
    // Ties broken by user_id, in the sort's direction.
    assert_eq!(
        ids_of(store, &all("logins_count:1")).await,
        ["auth0|a", "auth0|c", "auth0|d", "auth0|b"]
    );
    assert_eq!(
        ids_of(store, &all("logins_count:-1")).await,
        ["auth0|b", "auth0|d", "auth0|c", "auth0|a"]
    );
    assert_eq!(
        ids_of(store, &all("last_login:1")).await,
        ["auth0|a", "auth0|c", "auth0|d", "auth0|b"]
    );
    assert_eq!(
        ids_of(store, &all("created_at:-1")).await,
        ["auth0|a", "auth0|c", "auth0|b", "auth0|d"]
    );
    // Without a sort: oldest first.
    let mut unsorted = all("email:1");
    unsorted.sort = None;
    assert_eq!(
        ids_of(store, &unsorted).await,
        ["auth0|d", "auth0|b", "auth0|c", "auth0|a"]
    );

    // Pages, with and without the total.
    assert_eq!(
        ids_of(store, &sorted("email:1", 1, 2)).await,
        ["auth0|b", "auth0|c"]
    );
    assert_eq!(
        ids_of(store, &sorted("email:1", 4, 2)).await,
        Vec::<String>::new()
    );
    let mut counted = sorted("email:1", 3, 2);
    counted.include_total = true;
    let page = store.search_users(&counted).await.unwrap();
    assert_eq!(page.total, Some(4));
    assert_eq!(page.users.len(), 1);
    counted.terms = parse_user_query("email:b*").unwrap();
    counted.page = Page::ALL;
    assert_eq!(store.search_users(&counted).await.unwrap().total, Some(1));
    assert_eq!(
        store
            .search_users(&sorted("email:1", 0, 1))
            .await
            .unwrap()
            .total,
        None
    );
}

/// The search columns follow updates and logins.
pub async fn user_search_follows_writes(store: &dyn Store) {
    add(store, "auth0|w", "old@x.org", |_| {}).await;
    let mut stored: StoredUser = store.user("auth0|w").await.unwrap().unwrap();
    stored.user.email = Some("New@X.org".into());
    stored.user.name = Some("Renamed".into());
    stored.user.email_verified = true;
    store.update_user(&stored).await.unwrap();
    assert_eq!(ids(store, "email:old@x.org").await, Vec::<String>::new());
    assert_eq!(
        ids(store, "email:new@x.org name:renamed email_verified:true").await,
        ["auth0|w"]
    );
    store.record_login("auth0|w", T0 + 5).await.unwrap();
    assert_eq!(store.count_users_active_since(T0 + 5).await.unwrap(), 1);
    assert_eq!(store.count_users_active_since(T0 + 6).await.unwrap(), 0);
    // A login leaves the profile's search columns as they were.
    assert_eq!(ids(store, "name:renamed").await, ["auth0|w"]);
}

pub async fn users_with_email_across_connections(store: &dyn Store) {
    add(store, "auth0|1", "Same@Example.com", |u| {
        u.created_at = T0 + 1
    })
    .await;
    add(store, "auth0|2", "same@example.com", |u| {
        u.connection = "other-db".into();
        u.created_at = T0;
    })
    .await;
    add(store, "auth0|3", "other@example.com", |_| {}).await;
    let found = |users: Vec<StoredUser>| -> Vec<String> {
        users.into_iter().map(|s| s.user.user_id).collect()
    };
    assert_eq!(
        found(store.users_with_email("SAME@example.com").await.unwrap()),
        ["auth0|2", "auth0|1"]
    );
    assert!(store
        .users_with_email("nobody@example.com")
        .await
        .unwrap()
        .is_empty());
    assert!(store
        .users_with_email("same@example.co")
        .await
        .unwrap()
        .is_empty());
}

fn event(id: &str, date: i64, event_type: &str) -> LogEvent {
    LogEvent {
        log_id: id.into(),
        date,
        event_type: event_type.into(),
        description: format!("event {id}"),
        details: serde_json::json!({}),
        ..LogEvent::default()
    }
}

pub async fn daily_counts_per_utc_day(store: &dyn Store) {
    let day = T0 / 86_400;
    let midnight = day * 86_400;
    for (id, date, event_type) in [
        ("d0-s", midnight - 1, "s"),
        ("d1-s1", midnight, "s"),
        ("d1-s2", midnight + 50, "s"),
        ("d1-ss", midnight + 20, "ss"),
        ("d1-f", midnight + 30, "f"),
        ("d3-ss", midnight + 2 * 86_400 + 7, "ss"),
        ("d4-s", midnight + 3 * 86_400, "s"),
    ] {
        store
            .insert_log_event(&event(id, date, event_type))
            .await
            .unwrap();
    }
    assert_eq!(
        store.daily_counts(day, day + 2).await.unwrap(),
        [
            DailyCounts {
                day,
                logins: 2,
                signups: 1,
                first_event_at: midnight,
                last_event_at: midnight + 50,
            },
            DailyCounts {
                day: day + 2,
                logins: 0,
                signups: 1,
                first_event_at: midnight + 2 * 86_400 + 7,
                last_event_at: midnight + 2 * 86_400 + 7,
            },
        ]
    );
    assert_eq!(store.daily_counts(day - 1, day - 1).await.unwrap().len(), 1);
    assert!(store
        .daily_counts(day + 1, day + 1)
        .await
        .unwrap()
        .is_empty());
}
