//! Layer blobs streamed from a registry into the synchronous scanner. A tokio task
//! pulls the blob (holding one of the
//! [`MAX_CONCURRENT_PULLS`](super::client::MAX_CONCURRENT_PULLS) permits) and feeds a
//! bounded channel; the scanner reads the other end as a plain `Read`. Nothing touches
//! the disk, and memory is bounded by the channel depth, whatever the layer size.
//!
//! The reader checks size and digest as bytes arrive, so a hostile or broken registry
//! is caught here with a message naming registry, repository and blob; the scan
//! pipeline (`analyze.rs`) checks the same digests again, format-blind.

use std::io::{self, Read};
use std::sync::Arc;

use bytes::{Buf, Bytes};
use tokio::sync::mpsc;

use super::client::{backoff, edge, Client, BLOB_RESUMES};
use crate::image::{Digest, Hasher};
use crate::source::{BlobSource, LayerSource, SourceError};

/// Chunks buffered between the network and the scanner (reqwest chunks are small).
const CHANNEL_CHUNKS: usize = 16;

pub(super) struct RegistryBlobs {
    pub client: Arc<Client>,
}

impl BlobSource for RegistryBlobs {
    fn open_layer(&self, layer: &LayerSource) -> Result<Box<dyn Read + Send + '_>, SourceError> {
        let digest = match &layer.digest {
            Some(d) => d.clone(),
            None => Digest::parse(&layer.locator)
                .map_err(|e| SourceError::from(self.client.protocol("layer", e.to_string())))?,
        };
        let edge = edge()?;
        let (tx, rx) = mpsc::channel(CHANNEL_CHUNKS);
        let client = Arc::clone(&self.client);
        let pulls = Arc::clone(&edge.pulls);
        let what = format!("blob {digest}");
        let task_what = what.clone();
        edge.rt.spawn(async move {
            // The semaphore is never closed, so acquiring only fails if it were.
            let Ok(_permit) = pulls.acquire_owned().await else {
                return;
            };
            pull(&client, &task_what, tx).await;
        });
        Ok(Box::new(ChannelReader {
            rx,
            buf: Bytes::new(),
            hasher: Some(digest.hasher()),
            digest,
            size: layer.size,
            got: 0,
            shown: format!(
                "{}/{}: {what}",
                self.client.target.registry, self.client.target.repository
            ),
        }))
    }
}

/// Pulls one blob into `tx`. A connection that breaks mid-blob is resumed with a
/// `Range` request from the first byte not yet delivered (a server that ignores ranges
/// sends the whole blob again and the delivered part is skipped), so the scanner sees
/// each byte once, in order; the reader's digest check covers the joins.
async fn pull(client: &Client, what: &str, tx: mpsc::Sender<io::Result<Bytes>>) {
    let path = format!("blobs/{}", what.trim_start_matches("blob "));
    let mut delivered: u64 = 0;
    let mut resumes = 0;
    loop {
        let mut resp = match client.open_blob(&path, what, delivered).await {
            Ok(r) => r,
            Err(e) => {
                let _ = tx.send(Err(io::Error::other(e.to_string()))).await;
                return;
            }
        };
        let mut skip = if resp.status() == reqwest::StatusCode::PARTIAL_CONTENT {
            0
        } else {
            delivered
        };
        let broken = loop {
            match client.chunk(&mut resp, what).await {
                Ok(Some(mut c)) => {
                    let n = skip.min(c.len() as u64) as usize;
                    c.advance(n);
                    skip -= n as u64;
                    if c.is_empty() {
                        continue;
                    }
                    delivered += c.len() as u64;
                    // A closed channel means the scanner gave up: stop pulling.
                    if tx.send(Ok(c)).await.is_err() {
                        return;
                    }
                }
                Ok(None) => return,
                Err(e) => break e,
            }
        };
        if resumes >= BLOB_RESUMES {
            let _ = tx.send(Err(io::Error::other(broken.to_string()))).await;
            return;
        }
        resumes += 1;
        tokio::time::sleep(backoff(resumes)).await;
    }
}

/// The synchronous end of a pull: verifies size and digest on the way.
struct ChannelReader {
    rx: mpsc::Receiver<io::Result<Bytes>>,
    buf: Bytes,
    /// `None` once the stream has ended and been verified.
    hasher: Option<Hasher>,
    digest: Digest,
    size: Option<u64>,
    got: u64,
    shown: String,
}

impl ChannelReader {
    fn fail(&self, msg: String) -> io::Error {
        io::Error::other(format!("{}: {msg}", self.shown))
    }

    fn finish(&mut self) -> io::Result<()> {
        let Some(hasher) = self.hasher.take() else {
            return Ok(());
        };
        if let Some(size) = self.size {
            if self.got < size {
                return Err(self.fail(format!(
                    "truncated: the registry sent {} of {size} bytes",
                    self.got
                )));
            }
        }
        let actual = hasher.finish();
        if actual != self.digest {
            return Err(self.fail(format!(
                "digest mismatch: expected {}, got {actual}",
                self.digest
            )));
        }
        Ok(())
    }
}

impl Read for ChannelReader {
    fn read(&mut self, out: &mut [u8]) -> io::Result<usize> {
        loop {
            if !self.buf.is_empty() {
                let n = out.len().min(self.buf.len());
                out[..n].copy_from_slice(&self.buf[..n]);
                self.buf.advance(n);
                return Ok(n);
            }
            if self.hasher.is_none() || out.is_empty() {
                return Ok(0);
            }
            match self.rx.blocking_recv() {
                Some(Ok(chunk)) => {
                    self.got += chunk.len() as u64;
                    if let Some(size) = self.size.filter(|s| self.got > *s) {
                        self.hasher = None;
                        return Err(self.fail(format!(
                            "the registry sent more than the {size} bytes the manifest declares"
                        )));
                    }
                    if let Some(h) = self.hasher.as_mut() {
                        h.update(&chunk);
                    }
                    self.buf = chunk;
                }
                Some(Err(e)) => {
                    self.hasher = None;
                    return Err(e);
                }
                None => {
                    self.finish()?;
                    return Ok(0);
                }
            }
        }
    }
}
