//! A small Prometheus registry: request counts by status class, a latency histogram, and the
//! store's batching counters. Hand-rolled to avoid a process-global recorder, so every test app
//! has its own.

use std::fmt::Write;
use std::sync::atomic::{AtomicU64, Ordering};

/// Upper bounds of the latency buckets, in milliseconds.
const BUCKETS_MS: [u64; 10] = [1, 2, 5, 10, 20, 50, 100, 250, 1_000, 5_000];

#[derive(Debug, Default)]
pub struct Metrics {
    by_class: [AtomicU64; 5],
    latency_buckets: [AtomicU64; BUCKETS_MS.len()],
    latency_count: AtomicU64,
    latency_sum_us: AtomicU64,
}

impl Metrics {
    pub fn record(&self, status: u16, micros: u64) {
        let class = usize::from((status / 100).clamp(1, 5)) - 1;
        self.by_class[class].fetch_add(1, Ordering::Relaxed);
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS_MS) {
            if micros <= bound * 1_000 {
                bucket.fetch_add(1, Ordering::Relaxed);
            }
        }
        self.latency_count.fetch_add(1, Ordering::Relaxed);
        self.latency_sum_us.fetch_add(micros, Ordering::Relaxed);
    }

    /// Prometheus text exposition. `extra` lines are gauges and counters owned elsewhere.
    pub fn render(&self, extra: &[(&str, &str, u64)]) -> String {
        let mut out = String::new();
        let _ = writeln!(out, "# TYPE sharemall_http_requests_total counter");
        for (i, count) in self.by_class.iter().enumerate() {
            let _ = writeln!(out, "sharemall_http_requests_total{{class=\"{}xx\"}} {}", i + 1, count.load(Ordering::Relaxed));
        }
        let _ = writeln!(out, "# TYPE sharemall_http_request_duration_seconds histogram");
        for (bucket, bound) in self.latency_buckets.iter().zip(BUCKETS_MS) {
            let _ = writeln!(
                out,
                "sharemall_http_request_duration_seconds_bucket{{le=\"{}\"}} {}",
                bound as f64 / 1_000.0,
                bucket.load(Ordering::Relaxed)
            );
        }
        let count = self.latency_count.load(Ordering::Relaxed);
        let _ = writeln!(out, "sharemall_http_request_duration_seconds_bucket{{le=\"+Inf\"}} {count}");
        let _ = writeln!(out, "sharemall_http_request_duration_seconds_sum {}", self.latency_sum_us.load(Ordering::Relaxed) as f64 / 1e6);
        let _ = writeln!(out, "sharemall_http_request_duration_seconds_count {count}");
        for (name, kind, value) in extra {
            let _ = writeln!(out, "# TYPE {name} {kind}");
            let _ = writeln!(out, "{name} {value}");
        }
        out
    }
}
