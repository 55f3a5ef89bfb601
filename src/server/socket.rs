//! The logtest Unix socket, framed as wazuh-analysisd frames it (`OS_RecvSecureTCP` /
//! `OS_SendSecureTCP`): a 4-byte little-endian length, then that many bytes. One request per
//! connection: read one frame, answer, close (bytes sent after the frame stay unread, so the
//! client sees a reset, as with analysisd).
//!
//! * A length over 65,535 is answered with `(7315)` at once, without reading the payload.
//! * A length of 0, a header or payload cut short by the client closing: no reply.
//! * Like analysisd, there is no receive timeout; unlike analysisd's single default thread,
//!   `threads` workers accept connections, so one slow client blocks only its worker.
//! * The socket file is made with mode 0660 (owner and group only).

use std::io::{Read, Write};
use std::os::unix::fs::PermissionsExt;
use std::os::unix::net::{UnixListener, UnixStream};
use std::path::Path;
use std::sync::Arc;
use std::time::Instant;

use super::protocol::{oversize_reply, Logtest};

/// The largest request analysisd reads (`OS_MAXSTR - 1`).
pub const MAX_REQUEST: usize = 65535;

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

/// Answers one connection.
pub fn serve_connection(service: &Logtest, mut stream: UnixStream) {
    let mut header = [0u8; 4];
    if stream.read_exact(&mut header).is_err() {
        return;
    }
    let len = u32::from_le_bytes(header) as usize;
    let reply = if len > MAX_REQUEST {
        oversize_reply()
    } else if len == 0 {
        return;
    } else {
        let mut payload = vec![0u8; len];
        if stream.read_exact(&mut payload).is_err() {
            return;
        }
        service.handle(&payload)
    };
    let mut out = Vec::with_capacity(reply.len() + 4);
    out.extend_from_slice(&(reply.len() as u32).to_le_bytes());
    out.extend_from_slice(&reply);
    let _ = stream.write_all(&out);
}

/// Serves `listener` with `threads` workers until the process ends; a housekeeping thread
/// removes idle sessions every `session_timeout` (as upstream's inactivity thread).
pub fn serve(service: Arc<Logtest>, listener: UnixListener, threads: usize) {
    let listener = Arc::new(listener);
    {
        let service = Arc::clone(&service);
        std::thread::spawn(move || loop {
            std::thread::sleep(service.config().session_timeout);
            service.expire(Instant::now());
        });
    }
    let workers: Vec<_> = (0..threads.max(1))
        .map(|_| {
            let listener = Arc::clone(&listener);
            let service = Arc::clone(&service);
            std::thread::spawn(move || {
                for conn in listener.incoming() {
                    match conn {
                        Ok(stream) => serve_connection(&service, stream),
                        Err(_) => continue,
                    }
                }
            })
        })
        .collect();
    for w in workers {
        let _ = w.join();
    }
}
