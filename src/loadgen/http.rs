//! A minimal HTTP/1.1 keep-alive client: one request at a time per
//! connection, `Content-Length` bodies only (what the harness's server
//! speaks).

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::Duration;

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Connect(String),
    Io(String),
    Timeout,
    Status(u16),
}

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<TcpStream>,
    host: String,
    /// The server said `Connection: close`.
    pub closed: bool,
}

impl Conn {
    pub fn open(addr: SocketAddr, timeout: Duration) -> Result<Self, Failure> {
        let stream = TcpStream::connect_timeout(&addr, timeout)
            .map_err(|e| Failure::Connect(e.to_string()))?;
        let _ = stream.set_nodelay(true);
        Ok(Self {
            reader: BufReader::with_capacity(16 * 1024, stream),
            host: addr.to_string(),
            closed: false,
        })
    }

    /// Sends `POST /` with `body`, waits at most `timeout` for the whole
    /// answer; returns its body.
    pub fn request(&mut self, body: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        let stream = self.reader.get_mut();
        let mut msg = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        msg.extend_from_slice(body);
        stream
            .set_read_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(io)?;
        stream.write_all(&msg).map_err(io)?;
        self.read_response()
    }

    fn read_response(&mut self) -> Result<Vec<u8>, Failure> {
        let mut line = String::new();
        self.read_line(&mut line)?;
        let status: u16 = line
            .split(' ')
            .nth(1)
            .and_then(|s| s.parse().ok())
            .filter(|_| line.starts_with("HTTP/1."))
            .ok_or_else(|| Failure::Io(format!("bad status line {:?}", line.trim_end())))?;
        let mut length: Option<usize> = None;
        loop {
            line.clear();
            self.read_line(&mut line)?;
            let header = line.trim_end();
            if header.is_empty() {
                break;
            }
            if let Some((name, value)) = header.split_once(':') {
                let name = name.trim();
                if name.eq_ignore_ascii_case("content-length") {
                    length = value.trim().parse().ok();
                } else if name.eq_ignore_ascii_case("connection")
                    && value.trim().eq_ignore_ascii_case("close")
                {
                    self.closed = true;
                }
            }
        }
        let length = length.ok_or_else(|| Failure::Io("answer without Content-Length".into()))?;
        let mut body = vec![0; length];
        self.reader.read_exact(&mut body).map_err(io)?;
        if status != 200 {
            return Err(Failure::Status(status));
        }
        Ok(body)
    }

    fn read_line(&mut self, line: &mut String) -> Result<(), Failure> {
        match self.reader.read_line(line) {
            Ok(0) => Err(Failure::Io("the server closed the connection".into())),
            Ok(_) => Ok(()),
            Err(e) => Err(io(e)),
        }
    }
}

fn io(e: std::io::Error) -> Failure {
    match e.kind() {
        std::io::ErrorKind::WouldBlock | std::io::ErrorKind::TimedOut => Failure::Timeout,
        _ => Failure::Io(e.to_string()),
    }
}
