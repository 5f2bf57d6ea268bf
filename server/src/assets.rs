//! The built front-end: where its files are, whether their names carry a content hash, and the service
//! worker that caches them.
//!
//! With `hash-files`, cargo-leptos writes `hash.txt` beside the server binary (`js: …`, `wasm: …`, `css: …`),
//! the same file Leptos' `HydrationScripts` reads. Hashed names never change content, so `/pkg` can be cached
//! for a year and the service worker can key its cache on them.

use std::path::Path;

/// The output name in `[[workspace.metadata.leptos]]`.
pub const OUTPUT_NAME: &str = "ferrodesk";

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct AssetManifest {
    /// `None` when the files are not hashed (a debug build run without cargo-leptos, the Rust tests).
    pub hashes: Option<Hashes>,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Hashes {
    pub js: String,
    pub wasm: String,
    pub css: String,
}

impl AssetManifest {
    /// Reads `hash.txt` from beside the running executable, where cargo-leptos puts it.
    pub fn discover() -> AssetManifest {
        let hash_file = std::env::current_exe()
            .ok()
            .and_then(|exe| exe.parent().map(|dir| dir.join("hash.txt")));
        match hash_file {
            Some(path) => AssetManifest::from_hash_file(&path),
            None => AssetManifest { hashes: None },
        }
    }

    pub fn from_hash_file(path: &Path) -> AssetManifest {
        let hashes = std::fs::read_to_string(path).ok().and_then(|text| parse_hashes(&text));
        AssetManifest { hashes }
    }

    pub fn hashed(&self) -> bool {
        self.hashes.is_some()
    }

    pub fn stylesheet(&self) -> String {
        match &self.hashes {
            Some(h) => format!("/pkg/{OUTPUT_NAME}.{}.css", h.css),
            None => format!("/pkg/{OUTPUT_NAME}.css"),
        }
    }

    /// Changes whenever any front-end file changes: the service worker's cache name.
    pub fn version(&self) -> String {
        match &self.hashes {
            Some(h) => format!("{}-{}-{}", h.js, h.wasm, h.css),
            None => format!("dev-{}", env!("CARGO_PKG_VERSION")),
        }
    }

    /// The service worker script for this build.
    pub fn service_worker(&self) -> String {
        include_str!("sw.js")
            .replace("__VERSION__", &self.version())
            .replace("__STYLESHEET__", &self.stylesheet())
            .replace("__OFFLINE__", app::paths::OFFLINE)
            .replace("__CACHE_PKG__", if self.hashed() { "true" } else { "false" })
    }
}

fn parse_hashes(text: &str) -> Option<Hashes> {
    let mut js = None;
    let mut wasm = None;
    let mut css = None;
    for line in text.lines() {
        let Some((name, hash)) = line.split_once(':') else {
            continue;
        };
        let hash = hash.trim();
        // The hashes go into URLs and a script; accept only what cargo-leptos writes.
        if hash.is_empty()
            || !hash
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        {
            return None;
        }
        match name.trim() {
            "js" => js = Some(hash.to_owned()),
            "wasm" => wasm = Some(hash.to_owned()),
            "css" => css = Some(hash.to_owned()),
            _ => {}
        }
    }
    Some(Hashes {
        js: js?,
        wasm: wasm?,
        css: css?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_cargo_leptos_hash_file_gives_hashed_urls() {
        let hashes = parse_hashes("js: abc123\nwasm: def456\ncss: 0a1b2c\n").expect("parses");
        let manifest = AssetManifest { hashes: Some(hashes) };
        assert_eq!(manifest.stylesheet(), "/pkg/ferrodesk.0a1b2c.css");
        assert_eq!(manifest.version(), "abc123-def456-0a1b2c");
    }

    #[test]
    fn without_a_hash_file_names_are_plain() {
        let manifest = AssetManifest::from_hash_file(Path::new("/nonexistent/hash.txt"));
        assert!(!manifest.hashed());
        assert_eq!(manifest.stylesheet(), "/pkg/ferrodesk.css");
    }

    #[test]
    fn an_incomplete_or_odd_hash_file_is_ignored() {
        assert_eq!(parse_hashes("js: abc\nwasm: def\n"), None);
        assert_eq!(parse_hashes("js: a\"b\nwasm: d\ncss: c\n"), None);
    }

    #[test]
    fn the_service_worker_names_this_build_and_never_caches_the_api() {
        let manifest = AssetManifest {
            hashes: parse_hashes("js: j1\nwasm: w2\ncss: c3\n"),
        };
        let sw = manifest.service_worker();
        assert!(sw.contains("\"ferrodesk-j1-w2-c3\""), "{sw}");
        assert!(sw.contains("/pkg/ferrodesk.c3.css"));
        assert!(!sw.contains("__"), "every placeholder is filled: {sw}");
    }
}
