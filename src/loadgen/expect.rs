//! What a correct answer is: the request body of each key, and gilscope's
//! own computation of the built-in `service` handlers (`echo`, `python`,
//! `hashlib`: the same SHA-256 chain; `mix`: that chain then `hashlib`
//! rounds over 4 KiB; see `workloads/builtin/service.py`).

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

/// `mix`'s released part: buffer size and rounds per pure-Python round
/// (`MIX_C_SIZE`, `MIX_C_PER_PY_ROUND` in the handler).
pub const MIX_C_SIZE: usize = 4096;
pub const MIX_C_PER_PY_ROUND: f64 = 150.0;

/// `mix`'s hashlib rounds for `rounds` pure-Python rounds and GIL-held
/// share `held` (the handler's `mix_c_rounds`).
pub fn mix_c_rounds(rounds: u32, held: f64) -> u32 {
    let r = (f64::from(rounds) * MIX_C_PER_PY_ROUND * (1.0 - held) / held + 0.5).floor();
    if r.is_finite() && r >= 0.0 {
        r.min(f64::from(u32::MAX)) as u32
    } else {
        0
    }
}

/// The `mix` handler's answer: [`sha256_chain`], then `c_rounds` times
/// `d = H(d + big)` with `big` the body repeated to [`MIX_C_SIZE`].
pub fn mix_answer(body: &[u8], rounds: u32, size: usize, c_rounds: u32) -> Vec<u8> {
    let body: &[u8] = if body.is_empty() { &[0] } else { body };
    let buf: Vec<u8> = body.iter().copied().cycle().take(size).collect();
    let big: Vec<u8> = body.iter().copied().cycle().take(MIX_C_SIZE).collect();
    let mut d: [u8; 32] = Sha256::digest(&buf).into();
    for _ in 1..rounds {
        d = Sha256::new()
            .chain_update(d)
            .chain_update(&buf)
            .finalize()
            .into();
    }
    for _ in 0..c_rounds {
        d = Sha256::new()
            .chain_update(d)
            .chain_update(&big)
            .finalize()
            .into();
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
            "mix" => {
                let held = params.get("held")?.as_f64()?;
                let c_rounds = mix_c_rounds(rounds, held);
                (
                    format!(
                        "sha256 chain rounds={rounds} size={size}, then {c_rounds} hashlib rounds over {MIX_C_SIZE} bytes (held={held})"
                    ),
                    (0..keys)
                        .map(|k| mix_answer(&request_body(k), rounds, size, c_rounds))
                        .collect(),
                )
            }
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
    fn the_mix_matches_the_python_handler() {
        // Printed by workloads/builtin/service.py: handle(init(params), body)
        // with handler=mix, size=64 and rounds/held as below.
        assert_eq!(mix_c_rounds(2, 0.5), 300);
        assert_eq!(mix_c_rounds(1, 0.9), 17);
        assert_eq!(mix_c_rounds(1, 1.0), 0);
        assert_eq!(
            mix_answer(&request_body(0), 2, 64, 300),
            b"6e5aaa6d4bffd6a9e5b8218cef42ab6e0194bf860302e6eccc6685d312c87b69".to_vec()
        );
        assert_eq!(
            mix_answer(&request_body(2), 1, 64, 17),
            b"eba64c580019168d425f5376bdcc1ac566a39d26adc5532c66a8d3a91305e48a".to_vec()
        );
        // with no hashlib rounds it is the pure-Python chain
        assert_eq!(
            mix_answer(&request_body(1), 3, 64, 0),
            sha256_chain(&request_body(1), 3, 64)
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
