//! The dashboard page: one HTML file with its CSS and JS, built into the binary.

use super::http::Response;

/// The page's source.
pub const PAGE: &str = include_str!("page.html");

/// `GET /`.
pub fn page() -> Response {
    Response::new(200, "text/html; charset=utf-8", PAGE)
        .with("Cache-Control", "no-cache")
        .with(
            "Content-Security-Policy",
            "default-src 'self'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src 'self'",
        )
}

#[cfg(test)]
mod tests {
    #[test]
    fn page_is_self_contained() {
        for external in ["http://", "https://", "//cdn", "<link", "src=\"http"] {
            assert!(!super::PAGE.contains(external), "page refers to {external}");
        }
        assert!(super::PAGE.contains("image-rendering: pixelated"));
    }
}
