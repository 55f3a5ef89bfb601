//! The logtest Unix socket, framed as wazuh-analysisd frames it (`OS_RecvSecureTCP` /
//! `OS_SendSecureTCP`): a 4-byte little-endian length, then that many bytes. One request per
//! connection: read one frame, answer, close (bytes sent after the frame stay unread, so the
//! client sees a reset, as with analysisd).
//!
//! * A length over 65,535 is answered with `(7315)` at once, without reading the payload.
//! * A length of 0, a header or payload cut short by the client closing: no reply.
//! * Like analysisd, there is no receive timeout. Unlike analysisd, whose worker threads
//!   (one by default) each block in `recv` on a connection until it is complete, connections
//!   are read asynchronously: a client that sends half a request and waits holds a small
//!   buffer, not a worker, and everyone else is answered meanwhile. The `threads` workers only
//!   process complete requests. The buffer grows with what has arrived (at most 65,535 bytes),
//!   and at most [`MAX_CONNECTIONS`] connections are open at once (further ones wait in the
//!   listen queue).
//! * The socket file is made with mode 0660 (owner and group only).

use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::UnixListener;
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::protocol::{oversize_reply, Logtest};

/// The largest request analysisd reads (`OS_MAXSTR - 1`).
pub const MAX_REQUEST: usize = 65535;

/// Connections open at once; beyond it, new ones wait to be accepted.
pub const MAX_CONNECTIONS: usize = 4096;

/// Why the socket could not be served.
#[derive(Debug, thiserror::Error)]
pub enum ServeError {
    /// Binding or setting up the socket failed.
    #[error("{path}: {source}")]
    Bind {
        /// The socket path.
        path: String,
        /// Why.
        source: std::io::Error,
    },
}

/// Binds `path` (replacing a stale socket file), mode 0660.
pub fn bind(path: &Path) -> Result<UnixListener, ServeError> {
    let err = |source| ServeError::Bind { path: path.display().to_string(), source };
    if let Ok(meta) = std::fs::symlink_metadata(path) {
        use std::os::unix::fs::FileTypeExt;
        if meta.file_type().is_socket() {
            std::fs::remove_file(path).map_err(err)?;
        }
    }
    let listener = UnixListener::bind(path).map_err(err)?;
    std::fs::set_permissions(path, std::fs::Permissions::from_mode(0o660)).map_err(err)?;
    Ok(listener)
}

/// What a client sent, as far as it decides the answer.
enum Frame {
    /// A complete request of at most [`MAX_REQUEST`] bytes.
    Request(Vec<u8>),
    /// A header announcing more than [`MAX_REQUEST`] bytes: answered at once, unread.
    Oversize,
    /// A zero length, or the client closed before the header or payload was complete: no reply.
    Nothing,
}

fn frame_length(header: [u8; 4]) -> Result<usize, Frame> {
    match u32::from_le_bytes(header) as usize {
        0 => Err(Frame::Nothing),
        len if len > MAX_REQUEST => Err(Frame::Oversize),
        len => Ok(len),
    }
}

fn framed(reply: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(reply.len() + 4);
    out.extend_from_slice(&(reply.len() as u32).to_le_bytes());
    out.extend_from_slice(reply);
    out
}

/// Reads one frame without blocking a thread; the buffer grows only with what arrived.
async fn read_frame(stream: &mut tokio::net::UnixStream) -> Frame {
    use tokio::io::AsyncReadExt;
    let mut header = [0u8; 4];
    if stream.read_exact(&mut header).await.is_err() {
        return Frame::Nothing;
    }
    let len = match frame_length(header) {
        Ok(len) => len,
        Err(f) => return f,
    };
    let mut payload = Vec::new();
    match stream.take(len as u64).read_to_end(&mut payload).await {
        Ok(n) if n == len => Frame::Request(payload),
        _ => Frame::Nothing,
    }
}

/// One connection: read it without holding a worker, process the request on the worker that
/// has it (no hand-off to another thread: a request is short CPU work, and a hand-off cost a
/// sixth of the throughput in the load test), answer, close.
async fn answer(service: Arc<Logtest>, mut stream: tokio::net::UnixStream) {
    use tokio::io::AsyncWriteExt;
    let reply = match read_frame(&mut stream).await {
        Frame::Nothing => return,
        Frame::Oversize => oversize_reply(),
        Frame::Request(payload) => service.handle(&payload),
    };
    let _ = stream.write_all(&framed(&reply)).await;
}

/// Serves `listener` until the process ends: connections are read asynchronously, `threads`
/// workers process complete requests; a housekeeping thread removes idle sessions every
/// `session_timeout` (as upstream's inactivity thread). Returns early only when the listener
/// cannot be used.
pub fn serve(service: Arc<Logtest>, listener: UnixListener, threads: usize) {
    {
        let service = Arc::clone(&service);
        std::thread::spawn(move || loop {
            std::thread::sleep(service.config().session_timeout);
            service.expire(Instant::now());
        });
    }
    let threads = threads.max(1);
    let runtime = match tokio::runtime::Builder::new_multi_thread().worker_threads(threads).enable_all().build() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("logtest serve: cannot start the socket's runtime: {e}");
            return;
        }
    };
    runtime.block_on(async move {
        if let Err(e) = listener.set_nonblocking(true) {
            eprintln!("logtest serve: {e}");
            return;
        }
        let listener = match tokio::net::UnixListener::from_std(listener) {
            Ok(l) => l,
            Err(e) => {
                eprintln!("logtest serve: {e}");
                return;
            }
        };
        let open = Arc::new(tokio::sync::Semaphore::new(MAX_CONNECTIONS));
        loop {
            let Ok(slot) = Arc::clone(&open).acquire_owned().await else { return };
            match listener.accept().await {
                Ok((stream, _)) => {
                    let service = Arc::clone(&service);
                    tokio::spawn(async move {
                        answer(service, stream).await;
                        drop(slot);
                    });
                }
                // EMFILE and friends: wait a moment rather than spin.
                Err(_) => tokio::time::sleep(std::time::Duration::from_millis(10)).await,
            }
        }
    });
}
