// Durations from libavformat.
//
// Why it is cheap and contained: the container is opened and its stream info
// read with a bounded probe (5 MB, 5 s of media), so a huge or odd file cannot
// keep a pool thread busy; only the `file` protocol is allowed, so a playlist
// uploaded as audio cannot make us fetch URLs. av_log is silenced once: a
// malformed upload is the client's problem, not noise in our log.
#include "media/av_probe.hpp"

extern "C" {
#include <libavformat/avformat.h>
#include <libavutil/avutil.h>
#include <libavutil/dict.h>
#include <libavutil/log.h>
}

#include <mutex>

namespace chat::media {

std::optional<std::int64_t> probe_duration_ms(const std::string& path) {
  static std::once_flag quiet;
  std::call_once(quiet, [] { av_log_set_level(AV_LOG_QUIET); });

  AVFormatContext* fmt = avformat_alloc_context();
  if (fmt == nullptr) return std::nullopt;
  fmt->probesize = 5'000'000;
  fmt->max_analyze_duration = 5 * static_cast<std::int64_t>(AV_TIME_BASE);
  AVDictionary* opts = nullptr;
  av_dict_set(&opts, "protocol_whitelist", "file", 0);
  // On failure avformat_open_input frees the context and nulls `fmt`.
  int rc = avformat_open_input(&fmt, path.c_str(), nullptr, &opts);
  av_dict_free(&opts);
  if (rc < 0) return std::nullopt;

  std::optional<std::int64_t> result;
  if (avformat_find_stream_info(fmt, nullptr) >= 0) {
    if (fmt->duration != AV_NOPTS_VALUE && fmt->duration > 0) {
      result = av_rescale(fmt->duration, 1000, AV_TIME_BASE);
    } else {
      std::int64_t longest = 0;
      for (unsigned i = 0; i < fmt->nb_streams; ++i) {
        const AVStream* s = fmt->streams[i];
        if (s->duration == AV_NOPTS_VALUE || s->duration <= 0) continue;
        std::int64_t ms = av_rescale_q(s->duration, s->time_base, AVRational{1, 1000});
        if (ms > longest) longest = ms;
      }
      if (longest > 0) result = longest;
    }
  }
  avformat_close_input(&fmt);
  if (result && *result <= 0) return std::nullopt;
  return result;
}

}  // namespace chat::media
