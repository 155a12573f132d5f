//! Reading a product image under an [`ImagePolicy`]. A feed is input from outside, so by
//! default only http(s) URLs of public hosts are fetched, with limits on size, time and
//! redirects; local paths and private hosts need the operator's explicit opt-in.

use std::fs::File;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::time::Duration;

use ureq::unversioned::transport::DefaultConnector;

use super::address::{BlockedAddress, GuardedResolver, PrivateHosts};

/// Largest product image accepted by default (bytes).
pub const MAX_IMAGE_BYTES: u64 = 25 << 20;
/// Default time for one image: resolving, connecting, every redirect and the whole body.
pub const IMAGE_TIMEOUT: Duration = Duration::from_secs(30);
/// Default number of redirects followed.
pub const MAX_IMAGE_REDIRECTS: u32 = 5;

/// Where product images may come from, and how much of them is read.
#[derive(Debug, Clone, PartialEq)]
pub struct ImagePolicy {
    /// Local paths (relative to the feed's folder) and `file://` URLs may be read.
    pub local_paths: bool,
    /// Which non-public addresses an image host may have.
    pub private_hosts: PrivateHosts,
    /// Largest image (bytes); reading stops past it.
    pub max_bytes: u64,
    /// For the whole fetch of one image, redirects and body included.
    pub timeout: Duration,
    /// Redirects followed; one more is an error.
    pub max_redirects: u32,
}

impl Default for ImagePolicy {
    /// http(s) from public hosts only: what a feed from outside gets.
    fn default() -> Self {
        ImagePolicy {
            local_paths: false,
            private_hosts: PrivateHosts::Refused,
            max_bytes: MAX_IMAGE_BYTES,
            timeout: IMAGE_TIMEOUT,
            max_redirects: MAX_IMAGE_REDIRECTS,
        }
    }
}

impl ImagePolicy {
    /// Local paths and every host allowed (the limits stay): for the checkout's own fixtures
    /// (eval, simulate), never for a feed from outside.
    pub fn trusted() -> Self {
        ImagePolicy {
            local_paths: true,
            private_hosts: PrivateHosts::Allowed,
            ..ImagePolicy::default()
        }
    }
}

/// Why a product image could not be loaded (the ingest reports it on the product's line).
#[derive(Debug, thiserror::Error)]
pub enum ImageLoadError {
    /// The policy allows http(s) URLs only.
    #[error(
        "image {image:?} is a local path: only http(s) URLs are allowed (local paths need --allow-local-image-paths)"
    )]
    LocalPathRefused { image: String },
    #[error("image {image:?} must be an http(s) URL")]
    UnsupportedScheme { image: String },
    /// The host (of the URL or of a redirect) has a loopback, private, link-local... address.
    #[error("GET {url}: {source} (see --allow-private-image-hosts)")]
    AddressRefused {
        url: String,
        #[source]
        source: BlockedAddress,
    },
    #[error("GET {url}: more than {max} redirects")]
    TooManyRedirects { url: String, max: u32 },
    #[error("GET {url}: {source}")]
    Get {
        url: String,
        #[source]
        source: ureq::Error,
    },
    /// The answer's body broke off (or took past the timeout).
    #[error("GET {url}: {source}")]
    Body {
        url: String,
        #[source]
        source: std::io::Error,
    },
    /// `image` as given (a URL), or the resolved path.
    #[error("{image} is larger than {max} bytes")]
    TooLarge { image: String, max: u64 },
    #[error("{} is not a regular file", path.display())]
    NotAFile { path: PathBuf },
    #[error("cannot read {}: {source}", path.display())]
    Read {
        path: PathBuf,
        #[source]
        source: std::io::Error,
    },
}

impl ImageLoadError {
    /// A stable name for the ingest report (`failed[].code`), for whoever reads it by program.
    pub fn code(&self) -> &'static str {
        match self {
            ImageLoadError::LocalPathRefused { .. } => "image_local_path_refused",
            ImageLoadError::UnsupportedScheme { .. } => "image_scheme_refused",
            ImageLoadError::AddressRefused { .. } => "image_address_refused",
            ImageLoadError::TooManyRedirects { .. } => "image_too_many_redirects",
            ImageLoadError::TooLarge { .. } => "image_too_large",
            ImageLoadError::Get { .. } | ImageLoadError::Body { .. } => "image_fetch_failed",
            ImageLoadError::NotAFile { .. } | ImageLoadError::Read { .. } => "image_read_failed",
        }
    }
}

/// Loads product images under one policy; shared by the ingest's workers (one HTTP agent,
/// one connection pool).
pub struct ImageLoader {
    policy: ImagePolicy,
    agent: ureq::Agent,
}

impl ImageLoader {
    pub fn new(policy: ImagePolicy) -> Self {
        let config = ureq::Agent::config_builder()
            .timeout_global(Some(policy.timeout))
            .max_redirects(policy.max_redirects)
            // A proxy resolves the target itself, past the address check: none, whatever the
            // environment says.
            .proxy(None)
            .build();
        let resolver = GuardedResolver {
            allowed: policy.private_hosts.clone(),
        };
        let agent = ureq::Agent::with_parts(config, DefaultConnector::default(), resolver);
        ImageLoader { policy, agent }
    }

    pub fn policy(&self) -> &ImagePolicy {
        &self.policy
    }

    /// Reads a product image: an http(s) URL, or (when the policy allows) a local path,
    /// relative to `base` (the feed's folder), or a `file://` URL.
    pub fn load(&self, image: &str, base: &Path) -> Result<Vec<u8>, ImageLoadError> {
        match scheme(image) {
            Some(s) if s.eq_ignore_ascii_case("http") || s.eq_ignore_ascii_case("https") => {
                self.get(image)
            }
            Some(s) if !s.eq_ignore_ascii_case("file") => Err(ImageLoadError::UnsupportedScheme {
                image: image.to_string(),
            }),
            _ if !self.policy.local_paths => Err(ImageLoadError::LocalPathRefused {
                image: image.to_string(),
            }),
            // `file:///a/b` is the path `/a/b`.
            Some(_) => self.read_file(Path::new(&image["file://".len()..]), base),
            None => self.read_file(Path::new(image), base),
        }
    }

    fn get(&self, url: &str) -> Result<Vec<u8>, ImageLoadError> {
        let max = self.policy.max_bytes;
        let mut resp = self.agent.get(url).call().map_err(|e| match e {
            ureq::Error::Other(e) => match e.downcast::<BlockedAddress>() {
                Ok(source) => ImageLoadError::AddressRefused {
                    url: url.to_string(),
                    source: *source,
                },
                Err(e) => ImageLoadError::Get {
                    url: url.to_string(),
                    source: ureq::Error::Other(e),
                },
            },
            ureq::Error::TooManyRedirects => ImageLoadError::TooManyRedirects {
                url: url.to_string(),
                max: self.policy.max_redirects,
            },
            source => ImageLoadError::Get {
                url: url.to_string(),
                source,
            },
        })?;
        // With 0 redirects allowed the client hands the redirect back instead of failing.
        if resp.status().is_redirection() {
            return Err(ImageLoadError::TooManyRedirects {
                url: url.to_string(),
                max: self.policy.max_redirects,
            });
        }
        let too_large = || ImageLoadError::TooLarge {
            image: url.to_string(),
            max,
        };
        if resp.body().content_length().is_some_and(|n| n > max) {
            return Err(too_large());
        }
        let mut bytes = Vec::new();
        resp.body_mut()
            .as_reader()
            .take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(|source| ImageLoadError::Body {
                url: url.to_string(),
                source,
            })?;
        if bytes.len() as u64 > max {
            return Err(too_large());
        }
        Ok(bytes)
    }

    fn read_file(&self, path: &Path, base: &Path) -> Result<Vec<u8>, ImageLoadError> {
        let p: PathBuf = if path.is_absolute() {
            path.into()
        } else {
            base.join(path)
        };
        let read_error = |source| ImageLoadError::Read {
            path: p.clone(),
            source,
        };
        let file = File::open(&p).map_err(read_error)?;
        // A device or a FIFO (/dev/zero, /dev/stdin) would be read without end.
        if !file.metadata().map_err(read_error)?.is_file() {
            return Err(ImageLoadError::NotAFile { path: p });
        }
        let max = self.policy.max_bytes;
        let mut bytes = Vec::new();
        file.take(max + 1)
            .read_to_end(&mut bytes)
            .map_err(read_error)?;
        if bytes.len() as u64 > max {
            return Err(ImageLoadError::TooLarge {
                image: p.display().to_string(),
                max,
            });
        }
        Ok(bytes)
    }
}

/// The scheme of `image` when it is written as a URL (`scheme://...`).
fn scheme(image: &str) -> Option<&str> {
    let (s, _) = image.split_once("://")?;
    let ok = s.starts_with(|c: char| c.is_ascii_alphabetic())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'));
    ok.then_some(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_paths_and_other_schemes_are_refused_by_default() {
        let loader = ImageLoader::new(ImagePolicy::default());
        let base = Path::new("/");
        for image in [
            "/etc/passwd",
            "etc/passwd",
            "file:///etc/passwd",
            "../x.png",
        ] {
            let e = loader.load(image, base).unwrap_err();
            assert!(
                matches!(e, ImageLoadError::LocalPathRefused { .. }),
                "{image}: {e}"
            );
        }
        for image in ["ftp://example.com/a.png", "gopher://x/", "data://x"] {
            let e = loader.load(image, base).unwrap_err();
            assert!(
                matches!(e, ImageLoadError::UnsupportedScheme { .. }),
                "{image}: {e}"
            );
        }
    }

    #[test]
    fn devices_are_not_read() {
        let loader = ImageLoader::new(ImagePolicy::trusted());
        let e = loader.load("/dev/zero", Path::new("/")).unwrap_err();
        assert!(matches!(e, ImageLoadError::NotAFile { .. }), "{e}");
    }

    #[test]
    fn schemes() {
        assert_eq!(scheme("HTTPS://x/y"), Some("HTTPS"));
        assert_eq!(scheme("file:///a"), Some("file"));
        assert_eq!(scheme("a/b://c"), None);
        assert_eq!(scheme("img.png"), None);
    }
}
