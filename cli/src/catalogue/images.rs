//! `ingest`'s flags for where product images may come from (the domain's `ImagePolicy`).

use std::time::Duration;

use clap::Args;
use shoplook_domain::ingest::{
    IMAGE_TIMEOUT, ImagePolicy, IpNet, MAX_IMAGE_BYTES, MAX_IMAGE_REDIRECTS, PrivateHosts,
};

use crate::error::{CliResult, FlagError};

#[derive(Args, Clone, Debug)]
pub struct ImageArgs {
    /// Also read images from local paths (relative to the feed) and file:// URLs: only for a
    /// feed you trust (it could name any file this user can read).
    #[arg(long)]
    pub allow_local_image_paths: bool,
    /// Also fetch images from loopback, private, link-local and other non-public addresses
    /// (an image server on this machine or the internal network).
    #[arg(long, conflicts_with = "allow_image_network")]
    pub allow_private_image_hosts: bool,
    /// Allow one non-public network only (repeatable), e.g. 10.1.2.0/24.
    #[arg(long, value_name = "CIDR")]
    pub allow_image_network: Vec<IpNet>,
    /// Largest image read, in bytes.
    #[arg(long, value_name = "BYTES", default_value_t = MAX_IMAGE_BYTES)]
    pub max_image_bytes: u64,
    /// Seconds for one image, redirects and body included.
    #[arg(long, value_name = "SECS", default_value_t = IMAGE_TIMEOUT.as_secs_f64())]
    pub image_timeout: f64,
    /// Redirects followed per image.
    #[arg(long, value_name = "N", default_value_t = MAX_IMAGE_REDIRECTS)]
    pub max_image_redirects: u32,
}

impl ImageArgs {
    pub fn policy(&self) -> CliResult<ImagePolicy> {
        let timeout = Duration::try_from_secs_f64(self.image_timeout)
            .ok()
            .filter(|t| !t.is_zero())
            .ok_or(FlagError::ImageTimeout {
                value: self.image_timeout,
            })?;
        let private_hosts = if self.allow_private_image_hosts {
            PrivateHosts::Allowed
        } else if !self.allow_image_network.is_empty() {
            PrivateHosts::Networks(self.allow_image_network.clone())
        } else {
            PrivateHosts::Refused
        };
        Ok(ImagePolicy {
            local_paths: self.allow_local_image_paths,
            private_hosts,
            max_bytes: self.max_image_bytes,
            timeout,
            max_redirects: self.max_image_redirects,
        })
    }
}
