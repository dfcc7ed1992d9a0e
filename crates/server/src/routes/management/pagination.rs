//! Auth0's offset pagination (auth0-compat.md §6): `page` (0-based),
//! `per_page` (at most 50, default 50), `include_totals`. With totals the
//! reply is `{start, limit, total, <collection>}` (users add `length`);
//! otherwise a bare array. A page past the end is `[]`.

use super::error::{ManagementError, MgmtResult};
use gatehouse_store::Page;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

pub const MAX_PER_PAGE: u64 = 50;
pub const DEFAULT_PER_PAGE: u64 = 50;

/// The paging parameters of a list endpoint's query string.
#[derive(Debug, Default, Deserialize)]
pub struct Paging {
    pub page: Option<u64>,
    pub per_page: Option<u64>,
    pub include_totals: Option<bool>,
}

/// A validated window.
#[derive(Debug, Clone, Copy)]
pub struct Window {
    pub offset: u64,
    pub limit: u64,
    pub include_totals: bool,
}

impl Paging {
    pub fn window(&self) -> MgmtResult<Window> {
        let per_page = self.per_page.unwrap_or(DEFAULT_PER_PAGE);
        if per_page == 0 || per_page > MAX_PER_PAGE {
            return Err(ManagementError::invalid_query(format!(
                "Query validation error: 'per_page' must be between 1 and {MAX_PER_PAGE}."
            )));
        }
        let page = self.page.unwrap_or(0);
        let offset = page.checked_mul(per_page).ok_or_else(|| {
            ManagementError::invalid_query("Query validation error: 'page' is too large.")
        })?;
        Ok(Window {
            offset,
            limit: per_page,
            include_totals: self.include_totals.unwrap_or(false),
        })
    }
}

impl Window {
    /// The store's page for this window.
    pub fn page(&self) -> Page {
        Page {
            offset: i64::try_from(self.offset).unwrap_or(i64::MAX),
            limit: i64::try_from(self.limit).unwrap_or(i64::MAX),
        }
    }
}

/// Slices `items` (everything that matched, in order) and shapes the reply.
pub fn paginate<T: Serialize>(items: Vec<T>, window: Window, collection: &str) -> Value {
    let total = i64::try_from(items.len()).unwrap_or(i64::MAX);
    let page: Vec<T> = items
        .into_iter()
        .skip(usize::try_from(window.offset).unwrap_or(usize::MAX))
        .take(usize::try_from(window.limit).unwrap_or(usize::MAX))
        .collect();
    shape_page(page, Some(total), window, collection)
}

/// Shapes a page the store already cut: a bare array, or with totals (when
/// the window asks for them) `{start, limit, total, <collection>}`.
pub fn shape_page<T: Serialize>(
    page: Vec<T>,
    total: Option<i64>,
    window: Window,
    collection: &str,
) -> Value {
    let Some(total) = total.filter(|_| window.include_totals) else {
        return json!(page);
    };
    let length = page.len();
    let mut body = json!({
        "start": window.offset,
        "limit": window.limit,
        "total": total,
        collection: page,
    });
    if collection == "users" {
        body["length"] = json!(length);
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_and_shapes() {
        let w = Paging {
            page: Some(1),
            per_page: Some(2),
            include_totals: Some(true),
        }
        .window()
        .unwrap();
        let body = paginate(vec![1, 2, 3], w, "users");
        assert_eq!(
            body,
            json!({"start": 2, "limit": 2, "total": 3, "users": [3], "length": 1})
        );
        let past = Paging {
            page: Some(9),
            per_page: Some(2),
            include_totals: None,
        }
        .window()
        .unwrap();
        assert_eq!(paginate(vec![1, 2, 3], past, "roles"), json!([]));
        assert!(Paging {
            per_page: Some(51),
            ..Default::default()
        }
        .window()
        .is_err());
        assert!(Paging {
            page: Some(u64::MAX),
            per_page: Some(50),
            ..Default::default()
        }
        .window()
        .is_err());
    }
}
