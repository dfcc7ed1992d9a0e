//! Paged lists of the dashboard: the `page` query parameter as typed by
//! anyone (a bad value is the first page, never an error) and the links to
//! the pages around it.

use serde::Serialize;

/// Rows per page of a dashboard list (the Management API's maximum).
pub const PER_PAGE: u64 = 50;

/// The 0-based page a `page` query parameter names; anything else is 0.
pub fn page_number(raw: Option<&str>) -> u64 {
    raw.and_then(|p| p.trim().parse::<u64>().ok())
        .filter(|p| *p < 1_000_000)
        .unwrap_or(0)
}

/// Where a list stands: "Page 2 of 7" and the links either side; `pages`
/// and `total` are 0 when unknown.
#[derive(Debug, Serialize, PartialEq)]
pub struct Pager {
    /// 1-based, as shown.
    pub page: u64,
    pub pages: u64,
    pub total: u64,
    pub prev: Option<String>,
    pub next: Option<String>,
}

impl Pager {
    /// The pager of page `page` (0-based) of `total` rows; `base` is the
    /// list's URL with its other query parameters.
    pub fn new(base: &str, page: u64, per_page: u64, total: u64) -> Self {
        let pages = total.div_ceil(per_page.max(1)).max(1);
        let link = |n: u64| {
            let sep = if base.contains('?') { '&' } else { '?' };
            format!("{base}{sep}page={n}")
        };
        Self {
            page: page + 1,
            pages,
            total,
            prev: (page > 0).then(|| link(page.min(pages) - 1)),
            next: (page + 1 < pages).then(|| link(page + 1)),
        }
    }

    /// A pager without a total (the store pages, nobody counts): `has_next`
    /// when the page came back with one row more than it shows.
    pub fn open_ended(base: &str, page: u64, has_next: bool) -> Self {
        let known = Self::new(base, page, 1, page + 1 + u64::from(has_next));
        Self {
            pages: 0,
            total: 0,
            ..known
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bad_page_numbers_are_the_first_page() {
        assert_eq!(page_number(Some("3")), 3);
        for bad in [None, Some(""), Some("-1"), Some("x"), Some("99999999999")] {
            assert_eq!(page_number(bad), 0, "{bad:?}");
        }
    }

    #[test]
    fn links_either_side() {
        let p = Pager::new("/admin/roles?q=a", 1, 50, 120);
        assert_eq!((p.page, p.pages), (2, 3));
        assert_eq!(p.prev.as_deref(), Some("/admin/roles?q=a&page=0"));
        assert_eq!(p.next.as_deref(), Some("/admin/roles?q=a&page=2"));
        let last = Pager::new("/admin/roles", 2, 50, 120);
        assert_eq!(last.next, None);
        let empty = Pager::new("/admin/roles", 0, 50, 0);
        assert_eq!((empty.pages, empty.prev, empty.next), (1, None, None));
        let beyond = Pager::new("/admin/roles", 9, 50, 120);
        assert_eq!(beyond.prev.as_deref(), Some("/admin/roles?page=2"));
        let open = Pager::open_ended("/admin/roles/r/users", 1, true);
        assert_eq!(open.prev.as_deref(), Some("/admin/roles/r/users?page=0"));
        assert_eq!(open.next.as_deref(), Some("/admin/roles/r/users?page=2"));
        assert_eq!((open.page, open.pages), (2, 0));
        assert_eq!(Pager::open_ended("/x", 3, false).next, None);
    }
}
