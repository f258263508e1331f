#include "net/metrics.hpp"

#include <malloc.h>

#include "core/chat_core.hpp"

namespace chat::net {
namespace {

void line(std::string& out, std::string_view name, std::string_view type, std::string_view help,
          std::uint64_t value) {
  out.append("# HELP ").append(name).append(" ").append(help).append("\n");
  out.append("# TYPE ").append(name).append(" ").append(type).append("\n");
  out.append(name).append(" ").append(std::to_string(value)).append("\n");
}

}  // namespace

void Metrics::observe_delivery_ms(std::int64_t ms) {
  if (ms < 0) ms = 0;
  std::size_t i = 0;
  while (i < kLatencyBucketsMs.size() && ms > kLatencyBucketsMs[i])
    ++i;
  latency_buckets_[i].fetch_add(1, std::memory_order_relaxed);
  latency_sum_ms_.fetch_add(static_cast<std::uint64_t>(ms), std::memory_order_relaxed);
  latency_count_.fetch_add(1, std::memory_order_relaxed);
}

void Metrics::count_push(push::TargetKind kind, std::string_view result) {
  std::lock_guard lock(push_mutex_);
  ++pushes_[{std::string(push::kind_name(kind)), std::string(result)}];
}

std::string Metrics::render(core::ChatCore& core) const {
  auto get = [](const auto& a) {
    return static_cast<std::uint64_t>(a.load(std::memory_order_relaxed));
  };
  std::string out;
  out.reserve(4096);
  line(out, "chatd_connections", "gauge", "Open WebSocket connections.", get(ws_connections));
  line(out, "chatd_http_connections", "gauge", "Open HTTP (non-WebSocket) connections.",
       get(http_connections));
  line(out, "chatd_online_users", "gauge", "Users with at least one live event listener.",
       core.hub().users());
  line(out, "chatd_messages_stored_total", "counter", "Messages durably stored.",
       core.sequencer().messages_committed());
  line(out, "chatd_events_delivered_total", "counter", "Events written to WebSocket clients.",
       get(events_delivered));
  line(out, "chatd_accept_pauses_total", "counter",
       "50 ms pauses in accepting because max_connections were open.", get(accept_pauses));
  line(out, "chatd_http_requests_total", "counter", "REST requests served.", get(http_requests));
  line(out, "chatd_slow_consumer_disconnects_total", "counter",
       "Sockets closed because their send queue overflowed.", get(slow_consumer_disconnects));
  line(out, "chatd_store_batches_total", "counter", "Group-commit batches written.",
       core.writer().batches_committed());
  line(out, "chatd_media_uploads_total", "counter", "Media uploads stored.", get(media_uploads));
  line(out, "chatd_media_upload_bytes_total", "counter", "Bytes of media uploads stored.",
       get(media_upload_bytes));
  line(out, "chatd_media_downloads_total", "counter", "Media downloads started.",
       get(media_downloads));
  line(out, "chatd_media_download_bytes_total", "counter", "Media bytes sent.",
       get(media_download_bytes));
  line(out, "chatd_media_thumbnails_total", "counter", "Thumbnails made.", get(media_thumbnails));
  line(out, "chatd_media_blobs_removed_total", "counter", "Blob files removed by the media sweep.",
       get(media_blobs_removed));
  out.append("# HELP chatd_pushes_total Push attempts by target kind and result.\n");
  out.append("# TYPE chatd_pushes_total counter\n");
  {
    std::lock_guard lock(push_mutex_);
    for (const auto& [key, n] : pushes_) {
      out.append("chatd_pushes_total{kind=\"")
          .append(key.first)
          .append("\",result=\"")
          .append(key.second)
          .append("\"} ")
          .append(std::to_string(n))
          .append("\n");
    }
  }
  line(out, "chatd_push_outbox_depth", "gauge", "Push outbox rows (due or waiting).",
       core.push().outbox_depth());
  {
    const auto oldest = core.push().oldest_due_ms();
    const std::int64_t now = core.sequencer().clock().now_ms();
    line(out, "chatd_push_oldest_due_age_ms", "gauge",
         "How long the oldest due push row has been due (0: none overdue).",
         oldest && *oldest < now ? static_cast<std::uint64_t>(now - *oldest) : 0);
  }
  // Bytes malloc has handed out and not had back (RSS also counts what glibc
  // keeps cached after frees): what chat-bench divides by connections.
  line(out, "chatd_heap_in_use_bytes", "gauge", "Heap bytes in use (glibc mallinfo2).",
       mallinfo2().uordblks);

  out.append("# HELP chatd_request_errors_total Errors returned to clients, by code.\n");
  out.append("# TYPE chatd_request_errors_total counter\n");
  for (std::size_t i = 0; i < errors_.size(); ++i) {
    out.append("chatd_request_errors_total{code=\"")
        .append(code_name(static_cast<ErrorCode>(i)))
        .append("\"} ")
        .append(std::to_string(get(errors_[i])))
        .append("\n");
  }

  out.append(
      "# HELP chatd_delivery_latency_ms From ordering an event to writing it to a socket.\n");
  out.append("# TYPE chatd_delivery_latency_ms histogram\n");
  std::uint64_t cumulative = 0;
  for (std::size_t i = 0; i < latency_buckets_.size(); ++i) {
    cumulative += get(latency_buckets_[i]);
    const std::string le =
        i < kLatencyBucketsMs.size() ? std::to_string(kLatencyBucketsMs[i]) : "+Inf";
    out.append("chatd_delivery_latency_ms_bucket{le=\"")
        .append(le)
        .append("\"} ")
        .append(std::to_string(cumulative))
        .append("\n");
  }
  out.append("chatd_delivery_latency_ms_sum ")
      .append(std::to_string(get(latency_sum_ms_)))
      .append("\n");
  out.append("chatd_delivery_latency_ms_count ")
      .append(std::to_string(get(latency_count_)))
      .append("\n");
  return out;
}

}  // namespace chat::net
