//! A minimal HTTP/1.1 keep-alive client: one request at a time per
//! connection, `Content-Length` bodies only (what the harness's server
//! speaks). The timeout is a deadline for the whole answer: every read
//! waits at most until it, however the answer trickles in.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{SocketAddr, TcpStream};
use std::time::{Duration, Instant};

/// Why a request failed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Failure {
    Connect(String),
    Io(String),
    /// The whole answer had not arrived by the deadline.
    Timeout,
    Status(u16),
}

/// A socket whose reads wait at most until `deadline`.
struct DeadlineStream {
    stream: TcpStream,
    deadline: Option<Instant>,
}

impl Read for DeadlineStream {
    fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
        if let Some(deadline) = self.deadline {
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Err(std::io::ErrorKind::TimedOut.into());
            }
            // a zero timeout would mean "wait forever"
            self.stream
                .set_read_timeout(Some(left.max(Duration::from_micros(100))))?;
        }
        self.stream.read(buf)
    }
}

/// One keep-alive connection.
pub struct Conn {
    reader: BufReader<DeadlineStream>,
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
            reader: BufReader::with_capacity(
                16 * 1024,
                DeadlineStream {
                    stream,
                    deadline: None,
                },
            ),
            host: addr.to_string(),
            closed: false,
        })
    }

    /// Sends `POST /` with `body`; the whole answer must arrive within
    /// `timeout` of the send. Returns its body.
    pub fn request(&mut self, body: &[u8], timeout: Duration) -> Result<Vec<u8>, Failure> {
        let deadline = Instant::now() + timeout.max(Duration::from_millis(1));
        let inner = self.reader.get_mut();
        inner.deadline = Some(deadline);
        let mut msg = format!(
            "POST / HTTP/1.1\r\nHost: {}\r\nContent-Length: {}\r\n\r\n",
            self.host,
            body.len()
        )
        .into_bytes();
        msg.extend_from_slice(body);
        inner
            .stream
            .set_write_timeout(Some(timeout.max(Duration::from_millis(1))))
            .map_err(io)?;
        inner.stream.write_all(&msg).map_err(io)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use std::net::TcpListener;

    /// A server that trickles its answer a byte at a time, each byte well
    /// within a per-read timeout: only a whole-answer deadline catches it.
    #[test]
    fn the_timeout_is_a_deadline_for_the_whole_answer() {
        let Ok(listener) = TcpListener::bind("127.0.0.1:0") else {
            panic!("cannot listen on loopback");
        };
        let Ok(addr) = listener.local_addr() else {
            panic!("no local address");
        };
        let server = std::thread::spawn(move || {
            if let Ok((mut s, _)) = listener.accept() {
                let mut buf = [0u8; 256];
                let _ = s.read(&mut buf);
                let answer = b"HTTP/1.1 200 OK\r\nContent-Length: 40\r\n\r\n";
                for b in answer.iter().chain([b'x'; 40].iter()) {
                    if s.write_all(&[*b]).is_err() {
                        return;
                    }
                    std::thread::sleep(Duration::from_millis(20));
                }
            }
        });
        let timeout = Duration::from_millis(300);
        let mut conn = match Conn::open(addr, timeout) {
            Ok(c) => c,
            Err(e) => panic!("connect: {e:?}"),
        };
        let t0 = Instant::now();
        let got = conn.request(b"hi", timeout);
        let took = t0.elapsed();
        assert_eq!(got, Err(Failure::Timeout), "80 bytes at 20 ms each");
        assert!(
            took >= timeout && took < timeout + Duration::from_millis(150),
            "gave up after {took:?}, deadline {timeout:?}"
        );
        drop(conn);
        let _ = server.join();
    }
}
