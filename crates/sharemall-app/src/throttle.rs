//! Sign-in throttling: failures counted per account and per address in a fixed window.
//!
//! In memory, per process: a restart forgets, which only ever helps the legitimate user, and
//! several processes each allow the limit (documented in docs/OPERATIONS.md). Bounded: the map
//! is pruned when it grows past `MAX_KEYS`.

use std::collections::HashMap;
use std::sync::Mutex;

const MAX_KEYS: usize = 100_000;

#[derive(Debug)]
pub struct Throttle {
    max_failures: u32,
    window_ms: i64,
    failures: Mutex<HashMap<String, (i64, u32)>>,
}

impl Throttle {
    pub fn new(max_failures: u32, window_ms: i64) -> Throttle {
        Throttle { max_failures, window_ms, failures: Mutex::new(HashMap::new()) }
    }

    /// Whether `key` may try now.
    pub fn allowed(&self, key: &str, now_ms: i64) -> bool {
        let Ok(map) = self.failures.lock() else { return false };
        match map.get(key) {
            Some((start, count)) if now_ms - start < self.window_ms => *count < self.max_failures,
            _ => true,
        }
    }

    pub fn record_failure(&self, key: &str, now_ms: i64) {
        let Ok(mut map) = self.failures.lock() else { return };
        if map.len() >= MAX_KEYS {
            let window = self.window_ms;
            map.retain(|_, (start, _)| now_ms - *start < window);
        }
        let entry = map.entry(key.to_string()).or_insert((now_ms, 0));
        if now_ms - entry.0 >= self.window_ms {
            *entry = (now_ms, 0);
        }
        entry.1 = entry.1.saturating_add(1);
    }

    pub fn clear(&self, key: &str) {
        if let Ok(mut map) = self.failures.lock() {
            map.remove(key);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blocks_after_limit_until_window_passes() {
        let t = Throttle::new(3, 1_000);
        for _ in 0..3 {
            assert!(t.allowed("a", 0));
            t.record_failure("a", 0);
        }
        assert!(!t.allowed("a", 10));
        assert!(t.allowed("b", 10));
        assert!(t.allowed("a", 1_000));
    }
}
