//! What a correct answer is: the request body of each key, and gilscope's
//! own computation of the built-in `service` handlers (`echo`, `python`,
//! `hashlib`: the same SHA-256 chain, see `workloads/builtin/service.py`).

use sha2::{Digest, Sha256};

/// The body of the request with `key`.
pub fn request_body(key: u32) -> Vec<u8> {
    format!("gilscope request {key}").into_bytes()
}

/// `d = H(buf)`, then `rounds - 1` times `d = H(d + buf)`, with `buf` the
/// body repeated to `size` bytes; the hex digest (the handlers' answer).
pub fn sha256_chain(body: &[u8], rounds: u32, size: usize) -> Vec<u8> {
    let body: &[u8] = if body.is_empty() { &[0] } else { body };
    let buf: Vec<u8> = body.iter().copied().cycle().take(size).collect();
    let mut d: [u8; 32] = Sha256::digest(&buf).into();
    for _ in 1..rounds {
        let mut h = Sha256::new();
        h.update(d);
        h.update(&buf);
        d = h.finalize().into();
    }
    d.iter()
        .map(|b| format!("{b:02x}"))
        .collect::<String>()
        .into_bytes()
}

/// The correct answer for every key, when gilscope knows the handler.
#[derive(Debug, Clone, PartialEq)]
pub struct Expected {
    /// What the answers were computed as ("echo", "sha256 rounds=2 size=64").
    pub what: String,
    answers: Vec<Vec<u8>>,
}

impl Expected {
    /// For the built-in `service` workload with the params the harness
    /// resolved (its `hello`); `None` for a user's service (its answers are
    /// then only checked against each other).
    pub fn for_run(
        workload: &str,
        params: &serde_json::Map<String, serde_json::Value>,
        keys: u32,
    ) -> Option<Self> {
        if workload != "service" {
            return None;
        }
        let handler = params.get("handler")?.as_str()?;
        let rounds = u32::try_from(params.get("rounds")?.as_u64()?).ok()?;
        let size = usize::try_from(params.get("size")?.as_u64()?).ok()?;
        let (what, answers) = match handler {
            "echo" => ("echo".to_string(), (0..keys).map(request_body).collect()),
            "python" | "hashlib" => (
                format!("sha256 chain rounds={rounds} size={size}"),
                (0..keys)
                    .map(|k| sha256_chain(&request_body(k), rounds, size))
                    .collect(),
            ),
            _ => return None,
        };
        Some(Self { what, answers })
    }

    /// The correct answer for `key`.
    pub fn answer(&self, key: u32) -> Option<&[u8]> {
        self.answers.get(key as usize).map(Vec::as_slice)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_chain_matches_the_python_handlers() {
        // Printed by workloads/builtin/service.py (handle() with
        // handler=python and handler=hashlib, rounds=4, size=64).
        assert_eq!(
            sha256_chain(&request_body(0), 4, 64),
            b"d959ccad23c2fceec7db5006f6235cc7756dcc1de0454beac6ee2dbc7b263949".to_vec()
        );
        assert_eq!(
            sha256_chain(&request_body(2), 4, 64),
            b"e8c23043108067f958d44089da4a93d55cf8f7df64f6f0e70d08b271960fc1f2".to_vec()
        );
    }

    #[test]
    fn only_the_builtin_handlers_are_known() {
        let params: serde_json::Map<_, _> =
            serde_json::from_str(r#"{"handler":"echo","rounds":2,"size":64}"#).unwrap_or_default();
        let e = Expected::for_run("service", &params, 3);
        assert_eq!(
            e.as_ref().and_then(|e| e.answer(2)),
            Some(&b"gilscope request 2"[..])
        );
        assert_eq!(Expected::for_run("./mine.py", &params, 3), None);
    }
}
